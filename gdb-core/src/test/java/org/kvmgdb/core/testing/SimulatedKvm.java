package org.kvmgdb.core.testing;

import static org.kvmgdb.api.hypervisor.Ioctls.KVMIO;
import static org.kvmgdb.api.hypervisor.Ioctls.io;
import static org.kvmgdb.api.hypervisor.Ioctls.iow;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.core.kvm.Kvm;
import org.kvmgdb.core.kvm.KvmKernel;

/**
 * A kernel with a KVM that runs no real CPU, for {@link Kvm#open(KvmKernel)}: the architecture-neutral
 * part of the KVM ABI (include/uapi/linux/kvm.h) on a table of fds, with a {@link Machine} for what
 * an architecture adds (its capabilities, registers, guest debug and what {@code KVM_RUN} does).
 * The VMM above it, gdb-core's Vm, vCPU threads and KvmTarget, is the product's, unchanged.
 *
 * <ul>
 * <li>{@code /dev/kvm}: API version 12, {@code KVM_CAP_USER_MEMORY}, {@code KVM_CREATE_VM},
 *     {@code KVM_GET_VCPU_MMAP_SIZE}; VM fds: {@code KVM_SET_USER_MEMORY_REGION} (slots kept, their
 *     RAM read and written through the userspace address the VMM registered, as the kernel does),
 *     {@code KVM_CREATE_VCPU}; vCPU fds: {@code KVM_SET_SIGNAL_MASK}, {@code KVM_GET/SET_ONE_REG}
 *     (the value at {@code kvm_one_reg.addr}, of the size the id encodes), {@code KVM_RUN}, and the
 *     mmap of {@code struct kvm_run}.</li>
 * <li>Anonymous mmap (guest RAM) is the host's: real memory, as the VMM always has.</li>
 * <li>{@link Vcpu#waitForKick()} is a {@code KVM_RUN} that does not return by itself: it waits for a
 *     signal that {@code KVM_SET_SIGNAL_MASK} unblocks but the thread blocks outside (the VMM's
 *     kick), leaves it pending and returns {@code -EINTR}, as the kernel does. No polling.</li>
 * <li>Every ioctl is recorded ({@link #calls()}) with the bytes that crossed.</li>
 * </ul>
 */
public final class SimulatedKvm implements KvmKernel {
    // include/uapi/linux/kvm.h
    public static final long KVM_GET_API_VERSION = io(KVMIO, 0x00);
    public static final long KVM_CREATE_VM = io(KVMIO, 0x01);
    public static final long KVM_CHECK_EXTENSION = io(KVMIO, 0x03);
    public static final long KVM_GET_VCPU_MMAP_SIZE = io(KVMIO, 0x04);
    public static final long KVM_CREATE_VCPU = io(KVMIO, 0x41);
    /** {@code _IOW(KVMIO, 0x46, struct kvm_userspace_memory_region)}: 32 bytes. */
    public static final long KVM_SET_USER_MEMORY_REGION = iow(KVMIO, 0x46, 32);
    public static final long KVM_RUN = io(KVMIO, 0x80);
    /** {@code _IOW(KVMIO, 0x8b, struct kvm_signal_mask)}: the 4-byte header of a flexible array. */
    public static final long KVM_SET_SIGNAL_MASK = iow(KVMIO, 0x8b, 4);
    /** {@code _IOW(KVMIO, 0xab/0xac, struct kvm_one_reg)}: __u64 id, __u64 addr. */
    public static final long KVM_GET_ONE_REG = iow(KVMIO, 0xab, 16);
    public static final long KVM_SET_ONE_REG = iow(KVMIO, 0xac, 16);
    public static final int KVM_CAP_USER_MEMORY = 3;
    public static final int KVM_CAP_NR_VCPUS = 9;
    public static final int KVM_CAP_MAX_VCPUS = 66;

    /** {@code kvm_run.exit_reason}: __u32 at offset 8. */
    public static final int RUN_EXIT_REASON = 8;
    /** The size of the vCPU mmap: kvm_run and what follows it; two pages, as arm64 reports. */
    public static final int VCPU_MMAP_SIZE = 8192;

    // asm-generic/errno-base.h
    public static final int ENOENT = 2, EINTR = 4, EBADF = 9, EFAULT = 14, EEXIST = 17, EINVAL = 22, ENOTTY = 25;

    /** ONE_REG size field, include/uapi/linux/kvm.h: KVM_REG_SIZE_MASK, KVM_REG_SIZE_SHIFT. */
    private static final long KVM_REG_SIZE_MASK = 0x00f0000000000000L;
    private static final int KVM_REG_SIZE_SHIFT = 52;

    /** What an architecture adds to the neutral part. Called on the calling thread, under no lock. */
    public interface Machine {
        /** {@code KVM_CHECK_EXTENSION} for a capability the neutral part does not answer; 0 when absent. */
        default int checkExtension(int capability) {
            return 0;
        }

        /** A new vCPU's initial state (its register file). */
        default void created(Vcpu vcpu) {
        }

        /** {@code KVM_GET_ONE_REG}: fills {@code value} (exactly the id's size); 0, or -errno (-ENOENT: no such register). */
        default int getOneReg(Vcpu vcpu, long id, ByteBuffer value) {
            return -ENOENT;
        }

        /** {@code KVM_SET_ONE_REG}; 0, or -errno. */
        default int setOneReg(Vcpu vcpu, long id, ByteBuffer value) {
            return -ENOENT;
        }

        /** Any other vCPU ioctl; {@code arg} is the struct the request's size names. 0 or more, or -errno. */
        default int vcpuIoctl(Vcpu vcpu, long request, ByteBuffer arg) {
            return -ENOTTY;
        }

        /**
         * {@code KVM_RUN}: runs until an exit, written into {@link Vcpu#run()} (0 returned), or
         * returns {@link Vcpu#waitForKick()}.
         */
        int run(Vcpu vcpu);
    }

    /** One ioctl: on which fd ({@code "kvm"}, {@code "vm"}, {@code "vcpu N"}), the request, and the bytes that crossed. */
    public record Call(String fd, long request, long oneRegId, byte[] bytes, int result) {
        /** The bytes as a little-endian long (first 8), e.g. a ONE_REG value. */
        public long longValue() {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            b.put(bytes, 0, Math.min(8, bytes.length));
            return b.getLong(0);
        }
    }

    /** A memory slot as {@code KVM_SET_USER_MEMORY_REGION} registered it. */
    public record Slot(int slot, long guestPhysical, long size, long userspaceAddress) {
    }

    /** One simulated vCPU. */
    public final class Vcpu {
        private final int index;
        private final ByteBuffer run = ByteBuffer.allocateDirect(VCPU_MMAP_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        private volatile long signalMask = -1;

        Vcpu(int index) {
            this.index = index;
        }

        public int index() {
            return index;
        }

        /** The vCPU's {@code struct kvm_run}, the very bytes the VMM mapped. */
        public ByteBuffer run() {
            return run;
        }

        /** Sets {@code kvm_run.exit_reason}. */
        public void exit(int reason) {
            run.putInt(RUN_EXIT_REASON, reason);
        }

        /** The kernel's guest memory, as this vCPU's stage-2 sees it. */
        public PhysicalMemory memory() {
            return SimulatedKvm.this.memory();
        }

        /**
         * A {@code KVM_RUN} whose guest never exits by itself: returns {@code -EINTR} once a signal
         * is pending that the thread blocks but {@code KVM_SET_SIGNAL_MASK} lets in (at once when
         * one already is), leaving it pending, as the kernel does.
         */
        public int waitForKick() {
            long interrupting = interruptingSignals();
            if (interrupting == 0) {
                throw new IllegalStateException("vcpu " + index + ": KVM_RUN could never return: no signal the thread blocks is"
                        + " let in by its KVM_SET_SIGNAL_MASK");
            }
            HostSignals.awaitPending(interrupting);
            return -EINTR;
        }

        /** Signals the thread blocks that KVM_SET_SIGNAL_MASK lets in while in KVM_RUN: the kick. */
        private long interruptingSignals() {
            return HostSignals.blockedSignals() & ~signalMask;
        }

        @Override
        public String toString() {
            return "vcpu " + index;
        }
    }

    private enum Kind { KVM, VM, VCPU }

    private record Fd(Kind kind, Vcpu vcpu) {
    }

    private final Machine machine;
    private final Map<Integer, Fd> fds = new HashMap<>();
    private final Map<Long, Vcpu> runMappings = new HashMap<>();
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<Slot> slots = new CopyOnWriteArrayList<>();
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private int nextFd = 100;

    public SimulatedKvm(Machine machine) {
        this.machine = machine;
    }

    /** Every ioctl so far, in order. */
    public List<Call> calls() {
        return List.copyOf(calls);
    }

    /** The ioctls with {@code request} so far, in order. */
    public List<Call> calls(long request) {
        List<Call> out = new ArrayList<>();
        for (Call c : calls) {
            if (c.request() == request) {
                out.add(c);
            }
        }
        return out;
    }

    public synchronized List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    public List<Slot> slots() {
        return List.copyOf(slots);
    }

    /** Guest-physical memory as the memory slots map it: the VMM's RAM, the bytes the guest would run. */
    public PhysicalMemory memory() {
        return new PhysicalMemory() {
            @Override
            public long base() {
                return slot0().guestPhysical();
            }

            @Override
            public long size() {
                return slot0().size();
            }

            @Override
            public void read(long address, byte[] destination, int offset, int length) {
                host(address, length).read(0, destination, offset, length);
            }

            @Override
            public void write(long address, byte[] source, int offset, int length) {
                host(address, length).write(0, source, offset, length);
            }
        };
    }

    private Slot slot0() {
        if (slots.isEmpty()) {
            throw new IllegalStateException("no memory slot yet");
        }
        return slots.get(0);
    }

    /** The host memory behind guest-physical {@code [address, address + length)}, which must lie in one slot. */
    private Pointer host(long address, int length) {
        for (Slot s : slots) {
            if (address >= s.guestPhysical() && length >= 0 && address - s.guestPhysical() <= s.size() - length) {
                return new Pointer(s.userspaceAddress() + (address - s.guestPhysical()));
            }
        }
        throw new IndexOutOfBoundsException(String.format("guest-physical 0x%x + %d is in no memory slot", address, length));
    }

    // ---- KvmKernel ----

    @Override
    public synchronized int open(String path, int flags) {
        if (!path.equals(Kvm.DEVICE.toString())) {
            return -ENOENT;
        }
        return newFd(new Fd(Kind.KVM, null));
    }

    @Override
    public synchronized int close(int fd) {
        return fds.remove(fd) == null ? -EBADF : 0;
    }

    @Override
    public long mmap(long length, int prot, int flags, int fd, long offset) {
        if (fd == -1) {
            return KvmKernel.host().mmap(length, prot, flags, fd, offset);
        }
        Fd f;
        synchronized (this) {
            f = fds.get(fd);
        }
        if (f == null || f.kind() != Kind.VCPU || offset != 0 || length > VCPU_MMAP_SIZE) {
            return -EINVAL;
        }
        long address = HostSignals.address(f.vcpu().run);
        synchronized (this) {
            runMappings.put(address, f.vcpu());
        }
        return address;
    }

    @Override
    public int munmap(long address, long length) {
        synchronized (this) {
            if (runMappings.remove(address) != null) {
                return 0;
            }
        }
        return KvmKernel.host().munmap(address, length);
    }

    @Override
    public int ioctl(int fd, long request, long arg) {
        Fd f;
        synchronized (this) {
            f = fds.get(fd);
        }
        if (f == null) {
            return -EBADF;
        }
        if (f.kind() == Kind.VCPU && (request == KVM_GET_ONE_REG || request == KVM_SET_ONE_REG)) {
            return oneReg(f.vcpu(), request, arg);
        }
        int size = (int) ((request >>> 16) & 0x3FFF); // _IOC_SIZE, asm-generic/ioctl.h
        ByteBuffer struct = size == 0 ? null : view(arg, size);
        byte[] in = struct == null ? longBytes(arg) : bytes(struct);
        int result;
        switch (f.kind()) {
            case KVM:
                result = systemIoctl(request, arg);
                break;
            case VM:
                result = vmIoctl(request, arg, struct);
                break;
            default:
                result = vcpuIoctl(f.vcpu(), request, arg, struct);
                break;
        }
        calls.add(new Call(name(f), request, 0, in, result));
        return result;
    }

    private int systemIoctl(long request, long arg) {
        if (request == KVM_GET_API_VERSION) {
            return 12;
        }
        if (request == KVM_CHECK_EXTENSION) {
            return checkExtension((int) arg);
        }
        if (request == KVM_GET_VCPU_MMAP_SIZE) {
            return VCPU_MMAP_SIZE;
        }
        if (request == KVM_CREATE_VM) {
            synchronized (this) {
                return newFd(new Fd(Kind.VM, null));
            }
        }
        return -ENOTTY;
    }

    private int checkExtension(int capability) {
        switch (capability) {
            case KVM_CAP_USER_MEMORY:
                return 1;
            case KVM_CAP_NR_VCPUS:
            case KVM_CAP_MAX_VCPUS:
                return 8;
            default:
                return machine.checkExtension(capability);
        }
    }

    private int vmIoctl(long request, long arg, ByteBuffer struct) {
        if (request == KVM_CHECK_EXTENSION) {
            return checkExtension((int) arg);
        }
        if (request == KVM_SET_USER_MEMORY_REGION) {
            // struct kvm_userspace_memory_region: __u32 slot, __u32 flags, __u64 guest_phys_addr, memory_size, userspace_addr
            Slot s = new Slot(struct.getInt(0), struct.getLong(8), struct.getLong(16), struct.getLong(24));
            if ((s.guestPhysical() & 0xFFF) != 0 || (s.size() & 0xFFF) != 0) {
                return -EINVAL;
            }
            slots.removeIf(old -> old.slot() == s.slot());
            slots.add(s);
            return 0;
        }
        if (request == KVM_CREATE_VCPU) {
            synchronized (this) {
                for (Vcpu v : vcpus) {
                    if (v.index == arg) {
                        return -EEXIST;
                    }
                }
                Vcpu vcpu = new Vcpu((int) arg);
                vcpus.add(vcpu);
                machine.created(vcpu);
                return newFd(new Fd(Kind.VCPU, vcpu));
            }
        }
        return -ENOTTY;
    }

    private int vcpuIoctl(Vcpu vcpu, long request, long arg, ByteBuffer struct) {
        if (request == KVM_RUN) {
            // As the kernel does before it enters the guest: a signal already pending ends KVM_RUN at once.
            if ((HostSignals.pendingSignals() & vcpu.interruptingSignals()) != 0) {
                return -EINTR;
            }
            return machine.run(vcpu);
        }
        if (request == KVM_SET_SIGNAL_MASK) {
            // struct kvm_signal_mask: __u32 len, then len bytes of the kernel's sigset (8 on x86-64 and arm64)
            int len = struct.getInt(0);
            if (len != 8) {
                return -EINVAL;
            }
            vcpu.signalMask = view(arg + 4, 8).getLong(0);
            return 0;
        }
        return machine.vcpuIoctl(vcpu, request, struct);
    }

    private int oneReg(Vcpu vcpu, long request, long arg) {
        ByteBuffer oneReg = view(arg, 16);
        long id = oneReg.getLong(0);
        int size = 1 << (int) ((id & KVM_REG_SIZE_MASK) >>> KVM_REG_SIZE_SHIFT);
        ByteBuffer value = view(oneReg.getLong(8), size);
        int result = request == KVM_GET_ONE_REG ? machine.getOneReg(vcpu, id, value) : machine.setOneReg(vcpu, id, value);
        calls.add(new Call(name(new Fd(Kind.VCPU, vcpu)), request, id, bytes(value), result));
        return result;
    }

    private int newFd(Fd f) {
        int fd = nextFd++;
        fds.put(fd, f);
        return fd;
    }

    private static String name(Fd f) {
        switch (f.kind()) {
            case KVM:
                return "kvm";
            case VM:
                return "vm";
            default:
                return f.vcpu().toString();
        }
    }

    /** The caller's memory at {@code address}, as the kernel's copy_from_user/copy_to_user reach it. */
    private static ByteBuffer view(long address, int size) {
        return new Pointer(address).getByteBuffer(0, size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.get(0, out);
        return out;
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v).array();
    }
}

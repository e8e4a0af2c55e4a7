package org.kvmgdb.core.kvm;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.Platform;
import org.kvmgdb.api.hypervisor.VmHandle;
import org.kvmgdb.core.target.ResumeRequest;
import org.tinylog.Logger;

/**
 * A KVM virtual machine as {@code kvmgdb run} makes it: RAM in one memory slot at the platform's
 * RAM base (guest-physical 0 on a PC), a number of vCPUs each with its own platform thread, the
 * platform's serial and exit devices (DESIGN.md, guest ABI; {@link Platform}). Without a debugger it simply runs ({@link #runUntilExit}); a {@link KvmTarget} takes control
 * of the vCPU threads while a debugger is attached and gives it back on detach.
 */
public final class Vm implements VmHandle, AutoCloseable {
    /** The low memory the VMM keeps for its boot structures (page tables, GDT); ELF segments may not go there. */
    public static final long RESERVED_LOW_MEMORY = 64 * 1024;
    /** {@code --memory}'s default. */
    public static final long DEFAULT_MEMORY = 128L * 1024 * 1024;

    /**
     * @param memorySize   bytes of RAM, a multiple of 4 KiB and more than {@link #RESERVED_LOW_MEMORY}
     * @param vcpuCount    vCPUs, at least one
     * @param serialOutput where the bytes the guest writes to its serial port go (stdout in the product)
     * @param platform     where RAM and the devices are (the architecture's {@link BootState#platform()})
     */
    public record Config(long memorySize, int vcpuCount, OutputStream serialOutput, Platform platform) {
        public Config {
            Objects.requireNonNull(serialOutput, "serialOutput");
            Objects.requireNonNull(platform, "platform");
            if (memorySize <= RESERVED_LOW_MEMORY || memorySize % 4096 != 0) {
                throw new IllegalArgumentException("memory must be a multiple of 4 KiB above 64 KiB, was " + memorySize);
            }
            if (vcpuCount < 1) {
                throw new IllegalArgumentException("at least one vCPU, was " + vcpuCount);
            }
        }

        /** A PC: RAM at 0, COM1 and isa-debug-exit on port I/O ({@link Platform#PC}). */
        public Config(long memorySize, int vcpuCount, OutputStream serialOutput) {
            this(memorySize, vcpuCount, serialOutput, Platform.PC);
        }

        public Config withPlatform(Platform newPlatform) {
            return new Config(memorySize, vcpuCount, serialOutput, newPlatform);
        }
    }

    /** Guards the vCPU runners' states, the exit, and who is in control. */
    final Object lock = new Object();

    private final Kvm kvm;
    private final int fd;
    private final GuestMemory memory;
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<VcpuRunner> runners = new ArrayList<>();
    private final Devices devices;
    private final RunControl freeRun = this::freeRunStopped;
    private final long[] instructionCacheSyncs = new long[3];

    // Guarded by lock.
    private RunControl control = freeRun;
    private VmExit exit;
    /** Counted down once {@link #exit} is set: what {@link #awaitExit} waits for. */
    private final CountDownLatch ended = new CountDownLatch(1);
    private boolean closed;

    private Vm(Kvm kvm, int fd, GuestMemory memory, Devices devices) {
        this.kvm = kvm;
        this.fd = fd;
        this.memory = memory;
        this.devices = devices;
    }

    /** KVM_CREATE_VM, RAM, KVM_SET_USER_MEMORY_REGION, the vCPUs and their threads (idle until started). */
    static Vm create(Kvm kvm, Config config) {
        int maxVcpus = Math.max(kvm.checkExtension(KvmIoctl.KVM_CAP_MAX_VCPUS), kvm.checkExtension(KvmIoctl.KVM_CAP_NR_VCPUS));
        if (maxVcpus > 0 && config.vcpuCount() > maxVcpus) {
            throw new IllegalArgumentException("this KVM runs at most " + maxVcpus + " vCPUs per VM, " + config.vcpuCount() + " asked");
        }
        int vmFd = kvm.systemIoctl(KvmIoctl.KVM_CREATE_VM, 0);
        GuestMemory memory = null;
        Vm vm = null;
        try {
            memory = GuestMemory.allocate(kvm.kernel(), config.platform().ramBase(), config.memorySize());
            vm = new Vm(kvm, vmFd, memory, new Devices(config.serialOutput(), config.platform()));
            vm.addMemorySlot(0, memory.base(), memory);
            for (int i = 0; i < config.vcpuCount(); i++) {
                Vcpu vcpu = Vcpu.create(vm, kvm.kernel(), vmFd, i, kvm.vcpuMmapSize());
                vm.vcpus.add(vcpu);
            }
            for (Vcpu vcpu : vm.vcpus) {
                VcpuRunner runner = new VcpuRunner(vm, vcpu, vm.devices);
                vm.runners.add(runner);
                runner.startThread();
            }
            Logger.debug("VM created: {} bytes of RAM at 0x{}, {} vCPU(s)", config.memorySize(), Long.toHexString(memory.base()), config.vcpuCount());
            return vm;
        } catch (RuntimeException e) {
            if (vm != null) {
                vm.close();
            } else {
                if (memory != null) {
                    memory.unmap();
                }
                Sys.close(kvm.kernel(), vmFd);
            }
            throw e;
        }
    }

    private void addMemorySlot(int slot, long guestPhysical, GuestMemory ram) {
        ByteBuffer region = org.kvmgdb.api.hypervisor.VcpuHandle.buffer(KvmIoctl.MemoryRegion.SIZE);
        region.putInt(KvmIoctl.MemoryRegion.SLOT, slot)
                .putInt(KvmIoctl.MemoryRegion.FLAGS, 0)
                .putLong(KvmIoctl.MemoryRegion.GUEST_PHYS_ADDR, guestPhysical)
                .putLong(KvmIoctl.MemoryRegion.MEMORY_SIZE, ram.size())
                .putLong(KvmIoctl.MemoryRegion.USERSPACE_ADDR, ram.hostAddress());
        Sys.ioctl(kvm.kernel(), fd, KvmIoctl.KVM_SET_USER_MEMORY_REGION, region);
    }

    /**
     * Writes the architecture's boot structures into the reserved low memory and sets every vCPU's
     * registers for the guest ABI, entering at {@code entryPoint}.
     */
    public void boot(BootState bootState, long entryPoint) {
        BootState.BootParameters parameters = new BootState.BootParameters(entryPoint, vcpus.size(), memory.size(), RESERVED_LOW_MEMORY);
        bootState.prepareMemory(memory, parameters);
        for (Vcpu vcpu : vcpus) {
            bootState.boot(vcpu, parameters);
        }
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    public List<Vcpu> vcpus() {
        return Collections.unmodifiableList(vcpus);
    }

    /** The KVM this VM was created by. */
    Kvm kvm() {
        return kvm;
    }

    List<VcpuRunner> runners() {
        return runners;
    }

    /**
     * On an arm64 host, libgcc's {@code __clear_cache} over the host mapping of those bytes; on x86
     * the caches are coherent and nothing is done. Either way the request is counted and the last
     * one kept, so tests can see that an architecture asked for it.
     */
    @Override
    public void syncInstructionCache(long guestPhysical, int length) {
        if (!memory.contains(guestPhysical, length)) {
            throw new IndexOutOfBoundsException(String.format("instruction cache sync of %d bytes at 0x%x: outside RAM", length, guestPhysical));
        }
        synchronized (instructionCacheSyncs) {
            instructionCacheSyncs[0]++;
            instructionCacheSyncs[1] = guestPhysical;
            instructionCacheSyncs[2] = length;
        }
        if (LibGcc.AVAILABLE) {
            long begin = memory.hostAddress(guestPhysical);
            LibGcc.__clear_cache(begin, begin + length);
        }
    }

    /** {count, last guest-physical address, last length} of {@link #syncInstructionCache} requests. */
    long[] instructionCacheSyncs() {
        synchronized (instructionCacheSyncs) {
            return instructionCacheSyncs.clone();
        }
    }

    @Override
    public int checkExtension(int capability) {
        return Sys.ioctl(kvm.kernel(), fd, KvmIoctl.KVM_CHECK_EXTENSION, capability);
    }

    @Override
    public int ioctl(long request, ByteBuffer arg) {
        return Sys.ioctl(kvm.kernel(), fd, request, arg);
    }

    @Override
    public int systemIoctl(long request, ByteBuffer arg) {
        return kvm.systemIoctl(request, arg);
    }

    /** Lets every stopped vCPU run freely, no debugger involved (the {@code kvmgdb run} without {@code --gdb} case). */
    public void start() {
        synchronized (lock) {
            if (control != freeRun) {
                throw new IllegalStateException("a debugger controls this VM");
            }
            startFreeRun(null);
        }
    }

    /**
     * Starts every stopped vCPU with debugging off. Lock held.
     *
     * @param guestDebug the architecture's guest debug, to switch debugging off on vCPUs that had it; may be null
     */
    void startFreeRun(org.kvmgdb.api.arch.GuestDebug guestDebug) {
        control = freeRun;
        if (exit != null) {
            return;
        }
        VcpuRunner.Work work = new VcpuRunner.Work(new ResumeRequest.Continue(0), DebugControl.OFF, guestDebug, null);
        for (VcpuRunner runner : runners) {
            if (!runner.running()) {
                runner.start(work);
            }
        }
    }

    /** Starts the VM and waits for it to end. */
    public VmExit runUntilExit() throws InterruptedException {
        start();
        return awaitExit();
    }

    /**
     * Waits until the VM ends, however that happens, and every vCPU has left the guest; says how it ended.
     * Until the end it waits on {@link #ended}, not on {@link #lock}: a thread waiting on the lock is
     * woken by every resume and stop, and HotSpot hands the monitor on through it, one more thread
     * switch between gdb's request and the vCPU thread (and between the stop and the reply).
     */
    public VmExit awaitExit() throws InterruptedException {
        ended.await();
        synchronized (lock) {
            while (anyRunning()) {
                lock.wait();
            }
            return exit;
        }
    }

    private boolean anyRunning() {
        for (VcpuRunner runner : runners) {
            if (runner.running()) {
                return true;
            }
        }
        return false;
    }

    /** How the VM ended, if it has. */
    public Optional<VmExit> exit() {
        synchronized (lock) {
            return Optional.ofNullable(exit);
        }
    }

    /** Ends the guest now: every vCPU stops for good. */
    public void kill() {
        synchronized (lock) {
            end(VmExit.killed());
        }
    }

    RunControl control() {
        return control;
    }

    void setControl(RunControl newControl) {
        control = newControl;
    }

    /** Records how the VM ended (the first ending wins) and stops every vCPU. Lock held. */
    void end(VmExit how) {
        if (exit == null) {
            exit = how;
            ended.countDown();
            if (how.byGuest()) {
                Logger.debug(how.description());
            } else if (how.kind() == VmExit.Kind.KILLED) {
                Logger.info(how.description());
            } else {
                Logger.error(how.description()); // the one line that says why the VM is gone
            }
        }
        for (VcpuRunner runner : runners) {
            runner.kick();
        }
        lock.notifyAll();
    }

    /** Whether the VM has ended. Lock held. */
    VmExit exitLocked() {
        return exit;
    }

    private Runnable freeRunStopped(VcpuRunner runner, Outcome outcome) {
        if (outcome instanceof Outcome.Ended) {
            end(((Outcome.Ended) outcome).exit());
        } else if (outcome instanceof Outcome.Debug) {
            end(VmExit.failed(runner + ": debug exit " + ((Outcome.Debug) outcome).stop() + " with no debugger attached; the VM ends",
                    VmExit.GDB_SIGABRT));
        }
        // Kicked: someone (a debugger attaching, the VM ending) wanted it stopped; it waits for orders.
        return null;
    }

    /** Stops the vCPU threads and releases the vCPUs, the RAM and the VM. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (exit == null) {
                exit = VmExit.killed();
                ended.countDown();
            }
            for (VcpuRunner runner : runners) {
                runner.terminate();
            }
            lock.notifyAll();
        }
        for (VcpuRunner runner : runners) {
            try {
                runner.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Vcpu vcpu : vcpus) {
            vcpu.close();
        }
        memory.unmap();
        Sys.close(kvm.kernel(), fd);
    }
}

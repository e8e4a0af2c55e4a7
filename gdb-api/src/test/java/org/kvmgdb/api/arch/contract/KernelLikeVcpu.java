package org.kvmgdb.api.arch.contract;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToIntFunction;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;

/**
 * A {@link VcpuHandle} that keeps register state the way KVM does for the ioctls it is told about:
 * what a {@code KVM_SET_*} ioctl or {@code KVM_SET_ONE_REG} receives is stored, and the matching
 * {@code KVM_GET_*} or {@code KVM_GET_ONE_REG} returns it (zeros before anything was set). Every
 * call is recorded, with the bytes that crossed, so tests can assert what a kernel would have seen.
 *
 * <p>Like the kernel it copies exactly the size the request or ONE_REG id encodes, and fails with
 * an errno on what KVM would refuse: an unknown request (ENOTTY) or a buffer smaller than the
 * encoded size (EFAULT, where the kernel would read or write past the user's buffer). A request whose
 * struct ends in a flexible array (x86's KVM_GET_MSRS, say) encodes only its header's size; a test
 * gives such a request a {@link #handle handler} that acts as the kernel does.
 */
public final class KernelLikeVcpu implements VcpuHandle {
    /** errno values (include/uapi/asm-generic/errno-base.h). */
    public static final int EFAULT = 14, ENOTTY = 25;

    /** ONE_REG size field, include/uapi/linux/kvm.h. */
    private static final long KVM_REG_SIZE_MASK = 0x00f0000000000000L;
    private static final int KVM_REG_SIZE_SHIFT = 52;

    /** One call the vCPU received; {@code bytes} is what was passed in (SET) or handed back (GET). */
    public record Call(String op, long requestOrId, byte[] bytes) {
    }

    private final int index;
    private final Map<Long, Long> getForSet = new HashMap<>();
    private final Map<Long, ToIntFunction<ByteBuffer>> handlers = new HashMap<>();
    private final Map<Long, byte[]> structs = new HashMap<>();
    private final Map<Long, byte[]> oneRegs = new HashMap<>();
    private final List<Call> calls = new ArrayList<>();
    private final ByteBuffer kvmRun = VcpuHandle.buffer(4096);

    public KernelLikeVcpu(int index) {
        this.index = index;
    }

    /** Declares a struct ioctl pair such as KVM_SET_REGS/KVM_GET_REGS: the GET returns what the SET stored. */
    public KernelLikeVcpu pair(long setRequest, long getRequest) {
        getForSet.put(setRequest, getRequest);
        return this;
    }

    /**
     * Serves {@code request} with {@code handler}, which gets the whole argument buffer and returns
     * the ioctl's result (KVM_GET_MSRS returns how many entries it read). The call is recorded with
     * the buffer's bytes after the handler ran.
     */
    public KernelLikeVcpu handle(long request, ToIntFunction<ByteBuffer> handler) {
        handlers.put(request, handler);
        return this;
    }

    /** Every call so far, in order. */
    public List<Call> calls() {
        return Collections.unmodifiableList(calls);
    }

    /** The bytes a ONE_REG id holds now, if it was ever set. */
    public Optional<byte[]> oneReg(long id) {
        return Optional.ofNullable(oneRegs.get(id)).map(byte[]::clone);
    }

    /** A ONE_REG id's value as a little-endian number (zero when never set). */
    public long oneRegLong(long id) {
        byte[] v = oneRegs.get(id);
        if (v == null) {
            return 0;
        }
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(v, 0, Math.min(8, v.length));
        return b.getLong(0);
    }

    /** Sets a ONE_REG value as the guest would have left it, without recording a call. */
    public void presetOneReg(long id, long value) {
        byte[] v = new byte[oneRegSize(id)];
        for (int i = 0; i < v.length && i < 8; i++) {
            v[i] = (byte) (value >>> (8 * i));
        }
        oneRegs.put(id, v);
    }

    /** The bytes the last SET of the struct read back by {@code getRequest} stored, if any. */
    public Optional<byte[]> struct(long getRequest) {
        return Optional.ofNullable(structs.get(getRequest)).map(byte[]::clone);
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public VmHandle vm() {
        throw new UnsupportedOperationException("KernelLikeVcpu has no VM");
    }

    @Override
    public int ioctl(long request, ByteBuffer arg) {
        int size = (int) ((request >>> 16) & 0x3FFF);
        requireCapacity(arg, size, "ioctl " + Long.toHexString(request));
        ToIntFunction<ByteBuffer> handler = handlers.get(request);
        if (handler != null) {
            int result = handler.applyAsInt(arg.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear());
            calls.add(new Call("ioctl", request, copyOut(arg, arg.capacity())));
            return result;
        }
        Long get = getForSet.get(request);
        if (get != null) {
            byte[] bytes = copyOut(arg, size);
            structs.put(get, bytes);
            calls.add(new Call("ioctl", request, bytes.clone()));
            return 0;
        }
        if (getForSet.containsValue(request)) {
            byte[] bytes = structs.getOrDefault(request, new byte[size]);
            copyIn(arg, bytes);
            calls.add(new Call("ioctl", request, bytes.clone()));
            return 0;
        }
        throw new HypervisorException("ioctl " + Long.toHexString(request) + ": not a request this vCPU knows", ENOTTY);
    }

    @Override
    public void getOneReg(long id, ByteBuffer value) {
        int size = oneRegSize(id);
        requireCapacity(value, size, "KVM_GET_ONE_REG " + Long.toHexString(id));
        byte[] bytes = oneRegs.getOrDefault(id, new byte[size]);
        copyIn(value, bytes);
        calls.add(new Call("KVM_GET_ONE_REG", id, bytes.clone()));
    }

    @Override
    public void setOneReg(long id, ByteBuffer value) {
        int size = oneRegSize(id);
        requireCapacity(value, size, "KVM_SET_ONE_REG " + Long.toHexString(id));
        byte[] bytes = copyOut(value, size);
        oneRegs.put(id, bytes);
        calls.add(new Call("KVM_SET_ONE_REG", id, bytes.clone()));
    }

    @Override
    public ByteBuffer kvmRun() {
        return kvmRun.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0);
    }

    /** {@code KVM_REG_SIZE(id)}: bytes of the value a ONE_REG id names. */
    public static int oneRegSize(long id) {
        return 1 << (int) ((id & KVM_REG_SIZE_MASK) >>> KVM_REG_SIZE_SHIFT);
    }

    private static void requireCapacity(ByteBuffer b, int size, String what) {
        if (b.capacity() < size) {
            throw new HypervisorException(what + ": buffer of " + b.capacity() + " bytes for " + size, EFAULT);
        }
    }

    private static byte[] copyOut(ByteBuffer b, int size) {
        byte[] bytes = new byte[size];
        b.get(0, bytes, 0, size);
        return bytes;
    }

    private static void copyIn(ByteBuffer b, byte[] bytes) {
        b.put(0, bytes, 0, bytes.length);
    }
}

package org.kvmgdb.arch.aarch64;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.kvmgdb.api.arch.contract.KernelLikeVcpu;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;

/**
 * A {@link KernelLikeVcpu} (which records every ioctl and ONE_REG access) inside a VM that answers
 * only what a test tells it to, as a kernel would, and records what it was asked: the capabilities
 * KVM_CHECK_EXTENSION was asked for (absent ones answer 0), the VM ioctls (an unknown one fails with
 * ENOTTY) and the instruction-cache syncs.
 */
final class RecordingVcpu implements VcpuHandle {
    /** KVM_CAP_GUEST_DEBUG_HW_BPS and _WPS, include/uapi/linux/kvm.h. */
    private static final int KVM_CAP_GUEST_DEBUG_HW_BPS = 119, KVM_CAP_GUEST_DEBUG_HW_WPS = 120;

    final KernelLikeVcpu kernel;
    final List<Integer> capabilitiesAsked = new ArrayList<>();
    /** The VM ioctl requests so far, in hex. */
    final List<String> vmIoctls = new ArrayList<>();
    final List<long[]> instructionCacheSyncs = new ArrayList<>();
    private final Map<Integer, Integer> capabilities = new HashMap<>();
    private final Map<Long, ToIntFunction<ByteBuffer>> vmHandlers = new HashMap<>();
    private final PhysicalMemory memory;
    private final VmHandle vm = new VmHandle() {
        @Override
        public int checkExtension(int capability) {
            capabilitiesAsked.add(capability);
            return capabilities.getOrDefault(capability, 0);
        }

        @Override
        public int ioctl(long request, ByteBuffer arg) {
            vmIoctls.add(Long.toHexString(request));
            ToIntFunction<ByteBuffer> handler = vmHandlers.get(request);
            if (handler == null) {
                throw new HypervisorException("VM ioctl " + Long.toHexString(request), KernelLikeVcpu.ENOTTY);
            }
            return handler.applyAsInt(arg);
        }

        @Override
        public int systemIoctl(long request, ByteBuffer arg) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PhysicalMemory memory() {
            if (memory == null) {
                throw new UnsupportedOperationException("this test's VM has no memory");
            }
            return memory;
        }

        @Override
        public void syncInstructionCache(long guestPhysical, int length) {
            instructionCacheSyncs.add(new long[] {guestPhysical, length});
        }
    };

    /** {@code memory} may be null for a test whose code must not touch guest memory. */
    RecordingVcpu(KernelLikeVcpu kernel, PhysicalMemory memory) {
        this.kernel = kernel;
        this.memory = memory;
    }

    /**
     * vCPU 0 of an arm64 host with {@code bps} breakpoint and {@code wps} watchpoint registers, as
     * KVM_CHECK_EXTENSION reports them; KVM_SET_GUEST_DEBUG succeeds.
     */
    static RecordingVcpu withDebugRegisters(int bps, int wps) {
        return new RecordingVcpu(new KernelLikeVcpu(0).handle(Aarch64GuestDebug.KVM_SET_GUEST_DEBUG, b -> 0), null)
                .capability(KVM_CAP_GUEST_DEBUG_HW_BPS, bps)
                .capability(KVM_CAP_GUEST_DEBUG_HW_WPS, wps);
    }

    /** KVM_CHECK_EXTENSION answers {@code value} for {@code capability}. */
    RecordingVcpu capability(int capability, int value) {
        capabilities.put(capability, value);
        return this;
    }

    /** Serves the VM ioctl {@code request} with {@code handler}, which gets the argument and returns the result. */
    RecordingVcpu handleVmIoctl(long request, ToIntFunction<ByteBuffer> handler) {
        vmHandlers.put(request, handler);
        return this;
    }

    @Override
    public int index() {
        return kernel.index();
    }

    @Override
    public VmHandle vm() {
        return vm;
    }

    @Override
    public int ioctl(long request, ByteBuffer arg) {
        return kernel.ioctl(request, arg);
    }

    @Override
    public void getOneReg(long id, ByteBuffer value) {
        kernel.getOneReg(id, value);
    }

    @Override
    public void setOneReg(long id, ByteBuffer value) {
        kernel.setOneReg(id, value);
    }

    @Override
    public ByteBuffer kvmRun() {
        return kernel.kvmRun();
    }

    /** The {@code KVM_SET_ONE_REG} calls so far, as {id, value}. */
    List<long[]> oneRegWrites() {
        List<long[]> writes = new ArrayList<>();
        for (KernelLikeVcpu.Call c : kernel.calls()) {
            if (c.op().equals("KVM_SET_ONE_REG")) {
                writes.add(new long[] {c.requestOrId(), ByteBuffer.wrap(c.bytes()).order(ByteOrder.LITTLE_ENDIAN).getLong(0)});
            }
        }
        return writes;
    }

    /** The bytes of every {@code KVM_SET_GUEST_DEBUG} so far. */
    List<byte[]> guestDebugCalls() {
        List<byte[]> out = new ArrayList<>();
        for (KernelLikeVcpu.Call c : kernel.calls()) {
            if (c.op().equals("ioctl") && c.requestOrId() == Aarch64GuestDebug.KVM_SET_GUEST_DEBUG) {
                out.add(c.bytes());
            }
        }
        return out;
    }
}

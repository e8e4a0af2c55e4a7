package org.kvmgdb.arch.aarch64;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.kvmgdb.api.arch.contract.KernelLikeVcpu;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;

/**
 * A {@link KernelLikeVcpu} (which records every ioctl and ONE_REG access) inside a VM that answers
 * KVM_CHECK_EXTENSION for the guest-debug register counts as an arm64 host with {@code bps}
 * breakpoint and {@code wps} watchpoint registers would, and records what it was asked.
 */
final class DebugTestVcpu implements VcpuHandle {
    final KernelLikeVcpu kernel = new KernelLikeVcpu(0).handle(Aarch64GuestDebug.KVM_SET_GUEST_DEBUG, b -> 0);
    final List<Integer> capabilitiesAsked = new ArrayList<>();
    final List<long[]> instructionCacheSyncs = new ArrayList<>();
    private final int bps;
    private final int wps;
    private final VmHandle vm = new VmHandle() {
        @Override
        public int checkExtension(int capability) {
            capabilitiesAsked.add(capability);
            if (capability == 119) { // KVM_CAP_GUEST_DEBUG_HW_BPS, include/uapi/linux/kvm.h
                return bps;
            }
            return capability == 120 ? wps : 0; // KVM_CAP_GUEST_DEBUG_HW_WPS
        }

        @Override
        public int ioctl(long request, ByteBuffer arg) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int systemIoctl(long request, ByteBuffer arg) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PhysicalMemory memory() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void syncInstructionCache(long guestPhysical, int length) {
            instructionCacheSyncs.add(new long[] {guestPhysical, length});
        }
    };

    DebugTestVcpu(int bps, int wps) {
        this.bps = bps;
        this.wps = wps;
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
                writes.add(new long[] {c.requestOrId(), ByteBuffer.wrap(c.bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0)});
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

package org.kvmgdb.api.arch.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.Ioctls;
import org.kvmgdb.api.hypervisor.VcpuHandle;

class KernelLikeVcpuTest {
    /** x86's KVM_GET_REGS/KVM_SET_REGS: _IOR/_IOW(KVMIO, 0x81/0x82, struct kvm_regs), 144 bytes (arch/x86/include/uapi/asm/kvm.h). */
    private static final long GET_REGS = Ioctls.ior(Ioctls.KVMIO, 0x81, 144);
    private static final long SET_REGS = Ioctls.iow(Ioctls.KVMIO, 0x82, 144);

    @Test
    void aGetReturnsWhatTheMatchingSetStored() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0).pair(SET_REGS, GET_REGS);
        ByteBuffer in = VcpuHandle.buffer(144);
        in.putLong(128, 0x100000L);
        vcpu.ioctl(SET_REGS, in);
        ByteBuffer out = VcpuHandle.buffer(144);
        vcpu.ioctl(GET_REGS, out);
        assertEquals(0x100000L, out.getLong(128));
        assertEquals(2, vcpu.calls().size());
        assertArrayEquals(vcpu.calls().get(0).bytes(), vcpu.struct(GET_REGS).orElseThrow());
    }

    @Test
    void refusesWhatAKernelWouldRefuse() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0).pair(SET_REGS, GET_REGS);
        assertEquals(KernelLikeVcpu.ENOTTY,
                assertThrows(HypervisorException.class, () -> vcpu.ioctl(Ioctls.io(Ioctls.KVMIO, 0x80), VcpuHandle.buffer(8))).errno());
        assertEquals(KernelLikeVcpu.EFAULT,
                assertThrows(HypervisorException.class, () -> vcpu.ioctl(GET_REGS, VcpuHandle.buffer(100))).errno());
        long u128 = 0x6040000000100054L;
        assertEquals(KernelLikeVcpu.EFAULT,
                assertThrows(HypervisorException.class, () -> vcpu.getOneReg(u128, VcpuHandle.buffer(8))).errno());
    }

    @Test
    void aHandledRequestGetsTheWholeBufferAndItsResultIsTheIoctls() {
        // x86's KVM_GET_MSRS: _IOWR(KVMIO, 0x88, struct kvm_msrs) encodes only the 8-byte header;
        // the entries follow it in the same buffer.
        long getMsrs = Ioctls.iowr(Ioctls.KVMIO, 0x88, 8);
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0).handle(getMsrs, b -> {
            b.putLong(16, 0xABCDL);
            return b.getInt(0);
        });
        ByteBuffer msrs = VcpuHandle.buffer(24);
        msrs.putInt(0, 1);
        assertEquals(1, vcpu.ioctl(getMsrs, msrs));
        assertEquals(0xABCDL, msrs.getLong(16));
        assertEquals(24, vcpu.calls().get(0).bytes().length, "recorded with the entries, as they came back");
        assertEquals(KernelLikeVcpu.EFAULT,
                assertThrows(HypervisorException.class, () -> vcpu.ioctl(getMsrs, VcpuHandle.buffer(4))).errno());
    }

    @Test
    void oneRegValuesHaveTheSizeTheirIdEncodes() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        long u32 = 0x60200000001000d4L;
        ByteBuffer value = VcpuHandle.buffer(8);
        value.putLong(0, 0x1122334455667788L);
        vcpu.setOneReg(u32, value);
        assertEquals(4, vcpu.oneReg(u32).orElseThrow().length);
        assertEquals(0x55667788L, vcpu.oneRegLong(u32));
    }
}

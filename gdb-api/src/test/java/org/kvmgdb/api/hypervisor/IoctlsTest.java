package org.kvmgdb.api.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The request numbers as the x86-64 kernel headers spell them out (KVM_GET_REGS is 0x8090ae81, …). */
class IoctlsTest {
    private static final long KVM_RUN = 0xAE80L;
    private static final long KVM_GET_REGS = 0x8090AE81L;
    private static final long KVM_SET_REGS = 0x4090AE82L;
    private static final long KVM_TRANSLATE = 0xC018AE85L;

    @Test
    void encodesAsTheKernelHeaders() {
        assertEquals(KVM_RUN, Ioctls.io(Ioctls.KVMIO, 0x80));
        assertEquals(KVM_GET_REGS, Ioctls.ior(Ioctls.KVMIO, 0x81, 144));
        assertEquals(KVM_SET_REGS, Ioctls.iow(Ioctls.KVMIO, 0x82, 144));
        assertEquals(KVM_TRANSLATE, Ioctls.iowr(Ioctls.KVMIO, 0x85, 24));
    }

    @Test
    void onlyAnIorIsReadOnly() {
        assertTrue(Ioctls.isReadOnly(KVM_GET_REGS));
        assertFalse(Ioctls.isReadOnly(KVM_SET_REGS));
        assertFalse(Ioctls.isReadOnly(KVM_TRANSLATE), "_IOWR: the kernel also reads the argument");
        assertFalse(Ioctls.isReadOnly(KVM_RUN));
    }

    @Test
    void sizeIsTheArgumentsStruct() {
        assertEquals(144, Ioctls.size(KVM_GET_REGS));
        assertEquals(24, Ioctls.size(KVM_TRANSLATE));
        assertEquals(0, Ioctls.size(KVM_RUN));
    }
}

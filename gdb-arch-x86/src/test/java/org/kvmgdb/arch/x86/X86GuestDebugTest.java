package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.arch.HardwareSlot.Kind;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.FakeVm;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;

class X86GuestDebugTest {
    /** KVM_CAP_SET_GUEST_DEBUG2 as this machine's kernel reports it (KVM-HERE.md). */
    private static final int CAP_HERE = 0x1F0003;

    private final X86GuestDebug debug = new X86GuestDebug();
    private final FakeVm vm = new FakeVm().capability(KvmIoctls.KVM_CAP_SET_GUEST_DEBUG2, CAP_HERE);
    private final FakeVcpu vcpu = new FakeVcpu(0, vm);

    private byte[] applied(DebugControl control) {
        vcpu.clearCalls();
        debug.apply(vcpu, control);
        assertEquals(List.of("KVM_SET_GUEST_DEBUG"), vcpu.callNames());
        byte[] b = vcpu.calls().get(0).bytes();
        assertEquals(72, b.length);
        return b;
    }

    @Test
    void offClearsEverything() {
        assertEquals("00".repeat(72), Hex.of(applied(DebugControl.OFF)));
    }

    @Test
    void singleStepIsEnableAndSinglestep() {
        byte[] b = applied(new DebugControl(true, false, false, List.of()));
        assertEquals("03000000" + "00000000" + "00".repeat(64), Hex.of(b));
    }

    @Test
    void softwareBreakpointsAddUseSwBp() {
        byte[] b = applied(new DebugControl(true, true, false, List.of()));
        assertEquals(0x0001_0003, Hex.le32(b, 0));
        b = applied(new DebugControl(false, true, false, List.of()));
        assertEquals(0x0001_0001, Hex.le32(b, 0));
    }

    @Test
    void fourSlotsProgramDr0ToDr3AndDr7() {
        byte[] b = applied(new DebugControl(false, true, false, List.of(
                new HardwareSlot(Kind.EXECUTE, 0x100000, 1),
                new HardwareSlot(Kind.WRITE, 0x200000, 8),
                new HardwareSlot(Kind.ACCESS, 0x300004, 4),
                new HardwareSlot(Kind.READ, 0x400002, 2))));
        assertEquals(0x0003_0001, Hex.le32(b, 0), "ENABLE | USE_SW_BP | USE_HW_BP");
        assertEquals(0x100000, Hex.le64(b, 8));
        assertEquals(0x200000, Hex.le64(b, 16));
        assertEquals(0x300004, Hex.le64(b, 24));
        assertEquals(0x400002, Hex.le64(b, 32));
        assertEquals(0, Hex.le64(b, 40), "debugreg[4]");
        assertEquals(0, Hex.le64(b, 48), "debugreg[5]");
        assertEquals(0, Hex.le64(b, 56), "debugreg[6]");
        // G0..G3 (0xAA) | GE | bit 10; slot 0 RW=00 LEN=00, slot 1 RW=01 LEN=10 (8),
        // slot 2 RW=11 LEN=11 (4), slot 3 RW=11 (read has no encoding of its own) LEN=01 (2)
        assertEquals(0x7F90_06AAL, Hex.le64(b, 64));
    }

    @Test
    void slotNumbersFollowTheListOrder() {
        byte[] b = applied(new DebugControl(false, false, false, List.of(
                new HardwareSlot(Kind.WRITE, 0x1000, 4),
                new HardwareSlot(Kind.EXECUTE, 0x2000, 1))));
        assertEquals(0x0002_0001, Hex.le32(b, 0));
        assertEquals(0x1000, Hex.le64(b, 8));
        assertEquals(0x2000, Hex.le64(b, 16));
        assertEquals(0x0000_0000_000D_060AL, Hex.le64(b, 64), "G0 | G1 | GE | bit 10, slot 0 RW=01 LEN=11");
    }

    @Test
    void blockIrqOnlyWhenTheKernelOffersIt() {
        DebugControl step = new DebugControl(true, false, true, List.of());
        assertEquals(0x0010_0003, Hex.le32(applied(step), 0));
        assertEquals(0x0010_0003, Hex.le32(applied(step), 0));
        assertEquals(List.of(KvmIoctls.KVM_CAP_SET_GUEST_DEBUG2), vm.capabilityQueries(), "asked once");

        FakeVcpu old = new FakeVcpu(0, new FakeVm()); // a kernel without KVM_CAP_SET_GUEST_DEBUG2
        new X86GuestDebug().apply(old, step);
        assertEquals(0x0000_0003, Hex.le32(old.calls().get(0).bytes(), 0));
    }

    @Test
    void fitsAtMostFourAlignedSlotsOfValidLength() {
        assertTrue(debug.fits(List.of()));
        assertTrue(debug.fits(List.of(new HardwareSlot(Kind.EXECUTE, 0x100003, 1))));
        assertFalse(debug.fits(List.of(new HardwareSlot(Kind.EXECUTE, 0x100000, 2))), "execute is length 1");
        assertTrue(debug.fits(List.of(new HardwareSlot(Kind.WRITE, 0x1008, 8))));
        assertTrue(debug.fits(List.of(new HardwareSlot(Kind.READ, 0x1001, 1))));
        assertTrue(debug.fits(List.of(new HardwareSlot(Kind.ACCESS, 0x1002, 2))));
        assertFalse(debug.fits(List.of(new HardwareSlot(Kind.WRITE, 0x1004, 8))), "8 bytes must be 8-aligned");
        assertFalse(debug.fits(List.of(new HardwareSlot(Kind.WRITE, 0x1002, 4))), "4 bytes must be 4-aligned");
        assertFalse(debug.fits(List.of(new HardwareSlot(Kind.WRITE, 0x1000, 3))), "no 3-byte length");
        assertFalse(debug.fits(List.of(new HardwareSlot(Kind.WRITE, 0x1000, 16))));
        HardwareSlot ok = new HardwareSlot(Kind.EXECUTE, 0x1000, 1);
        assertTrue(debug.fits(List.of(ok, ok, ok, ok)));
        assertFalse(debug.fits(List.of(ok, ok, ok, ok, ok)), "x86 has four debug address registers");
    }

    /** What GNU as assembles for {@code movb $1, 0x11000; hlt}, then {@code jmp} back to the hlt. */
    @Test
    void theDataWriteProbeStoresOneByteAtItsAbsoluteAddressAndHalts() {
        assertEquals("c604250010010001" + "f4" + "ebfd", Hex.of(debug.dataWriteProbe(0x10000, 0x11000).orElseThrow()));
        assertThrows(IllegalArgumentException.class, () -> debug.dataWriteProbe(0x10000, 0x8000_0000L), "beyond a disp32");
    }

    @Test
    void applyRefusesSlotsThatDoNotFit() {
        DebugControl tooMany = new DebugControl(false, false, false,
                List.of(new HardwareSlot(Kind.WRITE, 0x1000, 3)));
        assertThrows(IllegalArgumentException.class, () -> debug.apply(vcpu, tooMany));
        assertTrue(vcpu.calls().isEmpty());
    }
}

package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.arch.HardwareSlot.Kind;

/**
 * The {@code struct kvm_guest_debug} an arm64 kernel would receive (520 bytes: control, pad, then
 * dbg_bcr[16], dbg_bvr[16], dbg_wcr[16], dbg_wvr[16]; the layout is checked against the uapi headers
 * by {@link Aarch64DebugHeaderTest}). Expected bytes are written out field by field from the ARM
 * register formats, not computed by the code under test.
 */
class Aarch64GuestDebugTest {
    /** Little-endian struct kvm_guest_debug with the given fields; unnamed fields zero. */
    private static final class Expected {
        final ByteBuffer b = ByteBuffer.allocate(520).order(ByteOrder.LITTLE_ENDIAN);

        Expected control(int c) {
            b.putInt(0, c);
            return this;
        }

        Expected bp(int n, long bcr, long bvr) {
            b.putLong(8 + 8 * n, bcr);
            b.putLong(136 + 8 * n, bvr);
            return this;
        }

        Expected wp(int n, long wcr, long wvr) {
            b.putLong(264 + 8 * n, wcr);
            b.putLong(392 + 8 * n, wvr);
            return this;
        }
    }

    @Test
    void breakpointsWatchpointsAndAStepEncodeExactly() {
        RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(6, 4);
        Aarch64GuestDebug debug = new Aarch64GuestDebug();
        debug.apply(vcpu, new DebugControl(true, true, false, List.of(
                new HardwareSlot(Kind.EXECUTE, 0x40080000L, 4),
                new HardwareSlot(Kind.WRITE, 0x41000000L, 8),
                new HardwareSlot(Kind.READ, 0x41000103L, 2),
                new HardwareSlot(Kind.EXECUTE, 0xffff800010001234L & ~3L, 4),
                new HardwareSlot(Kind.ACCESS, 0x41000204L, 8))));

        Expected e = new Expected()
                // ENABLE | SINGLESTEP | USE_SW_BP (1 << 16) | USE_HW (1 << 17)
                .control(0x00030003)
                // BCR: BAS 0b1111 << 5, PMC 0b11 << 1, E
                .bp(0, 0x1e7, 0x40080000L)
                .bp(1, 0x1e7, 0xffff800010001234L)
                // store (LSC 0b10 << 3), all 8 bytes (BAS 0xff << 5), PAC 0b11, E
                .wp(0, 0x1ff7, 0x41000000L)
                // load (LSC 0b01), bytes 3 and 4 of the doubleword at 0x41000100 (BAS 0x18)
                .wp(1, 0x030f, 0x41000100L)
                // load or store across two doublewords: bytes 4..7 of 0x41000200, bytes 0..3 of 0x41000208
                .wp(2, 0x1e1f, 0x41000200L)
                .wp(3, 0x01ff, 0x41000208L);
        assertEquals(1, vcpu.guestDebugCalls().size());
        assertArrayEquals(e.b.array(), vcpu.guestDebugCalls().get(0));
    }

    @Test
    void aStepAloneSetsOnlyEnableAndSinglestep() {
        RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(6, 4);
        new Aarch64GuestDebug().apply(vcpu, new DebugControl(true, false, true, List.of()));
        assertArrayEquals(new Expected().control(0x3).b.array(), vcpu.guestDebugCalls().get(0));
    }

    @Test
    void offClearsEverything() {
        RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(6, 4);
        Aarch64GuestDebug debug = new Aarch64GuestDebug();
        debug.apply(vcpu, new DebugControl(false, true, false, List.of(new HardwareSlot(Kind.EXECUTE, 0x1000, 4))));
        debug.apply(vcpu, DebugControl.OFF);
        assertArrayEquals(new byte[520], vcpu.guestDebugCalls().get(1));
    }

    @Test
    void theIoctlIsIowKvmio0x9bOf520Bytes() {
        assertEquals(0x4208ae9bL, Aarch64GuestDebug.KVM_SET_GUEST_DEBUG);
    }

    @Test
    void slotCountsComeFromTheCapabilitiesAskedOnce() {
        RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(3, 2);
        Aarch64GuestDebug debug = new Aarch64GuestDebug();
        List<HardwareSlot> threeBreakpoints = List.of(new HardwareSlot(Kind.EXECUTE, 0x1000, 4),
                new HardwareSlot(Kind.EXECUTE, 0x2000, 4), new HardwareSlot(Kind.EXECUTE, 0x3000, 4));
        // Before a VM was seen, the architectural minimum of two applies.
        assertFalse(debug.fits(threeBreakpoints));
        debug.apply(vcpu, DebugControl.OFF);
        debug.apply(vcpu, DebugControl.OFF);
        assertEquals(List.of(119, 120), vcpu.capabilitiesAsked);
        assertTrue(debug.fits(threeBreakpoints));
        assertFalse(debug.fits(List.of(new HardwareSlot(Kind.EXECUTE, 0x1000, 4), new HardwareSlot(Kind.EXECUTE, 0x2000, 4),
                new HardwareSlot(Kind.EXECUTE, 0x3000, 4), new HardwareSlot(Kind.EXECUTE, 0x4000, 4))));
    }

    @Test
    void aWatchRangeOverTwoDoublewordsTakesTwoRegisters() {
        List<HardwareSlot> aligned = List.of(new HardwareSlot(Kind.WRITE, 0x1000, 8), new HardwareSlot(Kind.WRITE, 0x2000, 8));
        List<HardwareSlot> crossing = List.of(new HardwareSlot(Kind.WRITE, 0x1000, 8), new HardwareSlot(Kind.WRITE, 0x2006, 4));
        assertTrue(Aarch64GuestDebug.fits(aligned, 16, 2));
        assertFalse(Aarch64GuestDebug.fits(crossing, 16, 2));
        assertTrue(Aarch64GuestDebug.fits(crossing, 16, 3));
        assertTrue(Aarch64GuestDebug.fits(List.of(new HardwareSlot(Kind.READ, 0x2001, 7)), 16, 1));
    }

    @Test
    void anExecuteSlotMustBeOnAnInstruction() {
        assertFalse(Aarch64GuestDebug.fits(List.of(new HardwareSlot(Kind.EXECUTE, 0x1002, 4)), 16, 16));
        assertTrue(Aarch64GuestDebug.fits(List.of(new HardwareSlot(Kind.EXECUTE, 0x1004, 4)), 16, 16));
    }

    @Test
    void stepMasksDaifAndRestoresTheGuestsBits() {
        RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(6, 4);
        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x60000145L); // NZ, EL1h, A masked only
        DebugControl step = new DebugControl(true, true, true, List.of());
        GuestDebug.Unmask unmask = new Aarch64GuestDebug().maskInterruptsForStep(vcpu, step);
        assertEquals(0x600003c5L, vcpu.kernel.oneRegLong(KvmCoreRegs.PSTATE));
        // The stepped instruction set C: the flags it wrote stay, only DAIF goes back.
        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x200003c5L);
        unmask.restore(vcpu);
        assertEquals(0x20000145L, vcpu.kernel.oneRegLong(KvmCoreRegs.PSTATE));
    }

    @Test
    void aStepThatClearedMasksItselfKeepsThem() {
        RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(6, 4);
        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x5L);
        GuestDebug.Unmask unmask = new Aarch64GuestDebug().maskInterruptsForStep(vcpu, new DebugControl(true, false, true, List.of()));
        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x345L); // msr daifclr, #2 was stepped: I now clear
        unmask.restore(vcpu);
        assertEquals(0x345L, vcpu.kernel.oneRegLong(KvmCoreRegs.PSTATE));
    }

    @Test
    void aGuestThatMasksEverythingIsLeftAlone() {
        RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(6, 4);
        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x3c5L);
        new Aarch64GuestDebug().maskInterruptsForStep(vcpu, new DebugControl(true, false, true, List.of())).restore(vcpu);
        assertTrue(vcpu.oneRegWrites().isEmpty());
    }

    @Test
    void brkPatchesAskTheVmToSyncTheInstructionCache() {
        RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(6, 4);
        BrkBreakpoint.INSTANCE.codePatched(vcpu.vm(), 0x40081000L, 1);
        assertEquals(1, vcpu.instructionCacheSyncs.size());
        assertArrayEquals(new long[] {0x40081000L, 1}, vcpu.instructionCacheSyncs.get(0));
    }

    @Test
    void brkIsRefusedOffAnInstructionBoundary() {
        assertTrue(BrkBreakpoint.INSTANCE.accepts(0x40080004L, 4));
        assertFalse(BrkBreakpoint.INSTANCE.accepts(0x40080002L, 4));
        assertFalse(BrkBreakpoint.INSTANCE.accepts(0x40080004L, 2));
        assertNull(BrkBreakpoint.INSTANCE.instruction(2));
    }
}

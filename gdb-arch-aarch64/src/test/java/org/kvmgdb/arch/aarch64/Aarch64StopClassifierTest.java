package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.DebugStop;
import org.kvmgdb.api.arch.DebugStop.Kind;
import org.kvmgdb.api.arch.HardwareSlot;

/**
 * Classification replays the {@code struct kvm_run} bytes an arm64 kernel leaves at a
 * KVM_EXIT_DEBUG: {@code debug.arch} is {hsr u32, hsr_high u32, far u64} at offset 32 (offsets
 * checked against the uapi headers by {@link Aarch64DebugHeaderTest}); the hsr values are built
 * from ESR_ELx's layout (EC in bits [31:26], IL bit 25, ISS below). Re-injection is checked by the
 * exact ONE_REG writes a {@link org.kvmgdb.api.arch.contract.KernelLikeVcpu} receives.
 */
class Aarch64StopClassifierTest {
    private static final int IL = 1 << 25;
    private static final long PC = 0x40081230L;

    private final Aarch64GuestDebug guestDebug = new Aarch64GuestDebug();
    private final Aarch64StopClassifier classifier = new Aarch64StopClassifier(guestDebug);
    private final RecordingVcpu vcpu = RecordingVcpu.withDebugRegisters(6, 4);

    private Optional<DebugStop> exit(int exitReason, int hsr, long far) {
        ByteBuffer run = vcpu.kvmRun();
        run.putInt(8, exitReason); // kvm_run.exit_reason
        run.putInt(32, hsr);       // debug.arch.hsr
        run.putInt(36, 0);         // debug.arch.hsr_high
        run.putLong(40, far);      // debug.arch.far
        vcpu.kernel.presetOneReg(KvmCoreRegs.PC, PC);
        return classifier.classify(vcpu, exitReason, vcpu.kvmRun());
    }

    @Test
    void brk64IsASoftwareBreakpointAtTheBrk() {
        assertEquals(Optional.of(new DebugStop(Kind.SOFTWARE_BREAKPOINT, PC, -1)), exit(4, (0x3C << 26) | IL, 0));
    }

    @Test
    void softwareStepFromEitherLevelIsASingleStep() {
        assertEquals(Optional.of(new DebugStop(Kind.SINGLE_STEP, PC, -1)), exit(4, (0x32 << 26) | IL | 0x22, 0));
        assertEquals(Optional.of(new DebugStop(Kind.SINGLE_STEP, PC, -1)), exit(4, (0x33 << 26) | IL | 0x22, 0));
    }

    @Test
    void aHardwareBreakpointIsTheExecuteSlotAtPc() {
        guestDebug.apply(vcpu, new DebugControl(false, true, false, List.of(
                new HardwareSlot(HardwareSlot.Kind.WRITE, 0x41000000L, 8),
                new HardwareSlot(HardwareSlot.Kind.EXECUTE, 0x40080000L, 4),
                new HardwareSlot(HardwareSlot.Kind.EXECUTE, PC, 4))));
        assertEquals(Optional.of(new DebugStop(Kind.HARDWARE_BREAKPOINT, PC, 2)), exit(4, (0x30 << 26) | IL, 0));
        assertEquals(Optional.of(new DebugStop(Kind.HARDWARE_BREAKPOINT, PC, 2)), exit(4, (0x31 << 26) | IL, 0));
    }

    @Test
    void aWatchpointIsTheDataSlotHoldingFar() {
        guestDebug.apply(vcpu, new DebugControl(false, false, false, List.of(
                new HardwareSlot(HardwareSlot.Kind.EXECUTE, 0x40080000L, 4),
                new HardwareSlot(HardwareSlot.Kind.WRITE, 0x41000000L, 8),
                new HardwareSlot(HardwareSlot.Kind.ACCESS, 0x41000104L, 8))));
        assertEquals(Optional.of(new DebugStop(Kind.WATCHPOINT, PC, 2)), exit(4, (0x34 << 26) | IL | 0x40, 0x41000109L));
        assertEquals(Optional.of(new DebugStop(Kind.WATCHPOINT, PC, 1)), exit(4, (0x35 << 26) | IL | 0x40, 0x41000003L));
        // A wide access reporting the start of the doubleword below the watched bytes.
        assertEquals(Optional.of(new DebugStop(Kind.WATCHPOINT, PC, 2)), exit(4, (0x34 << 26) | IL | 0x40, 0x41000100L));
    }

    @Test
    void otherExitsAndClassesAreNotDebugStops() {
        assertEquals(Optional.empty(), exit(6, (0x3C << 26) | IL, 0)); // KVM_EXIT_MMIO
        assertEquals(Optional.empty(), exit(4, (0x24 << 26) | IL, 0)); // a data abort class
    }

    @Test
    void aGuestsOwnBrkAtEl1hEntersTheCurrentElSpxVector() {
        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x600003c5L & ~0x3c0L | 0x80L); // NZ, EL1h, I masked
        vcpu.kernel.presetOneReg(Aarch64ExceptionRegs.VBAR_EL1, 0xffff800010010800L);
        DebugStop stop = exit(4, (0x3C << 26) | IL | 0x7, 0).orElseThrow(); // brk #7
        classifier.reinject(vcpu, stop);
        assertWrites(
                KvmCoreRegs.ELR_EL1, PC,
                Aarch64ExceptionRegs.SPSR_EL1, 0x60000085L,
                Aarch64ExceptionRegs.ESR_EL1, 0xf2000007L,
                KvmCoreRegs.PSTATE, 0x600003c5L,
                KvmCoreRegs.PC, 0xffff800010010a00L);
    }

    @Test
    void aBrkAtEl1tEntersTheSp0VectorAndAtEl0TheLowerElVector() {
        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x4L); // EL1t
        vcpu.kernel.presetOneReg(Aarch64ExceptionRegs.VBAR_EL1, 0x40000000L);
        classifier.reinject(vcpu, exit(4, (0x3C << 26) | IL, 0).orElseThrow());
        assertEquals(0x40000000L, vcpu.kernel.oneRegLong(KvmCoreRegs.PC));
        assertEquals(0x3c5L, vcpu.kernel.oneRegLong(KvmCoreRegs.PSTATE));

        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x80000000L); // EL0t, N set
        classifier.reinject(vcpu, exit(4, (0x3C << 26) | IL, 0).orElseThrow());
        assertEquals(0x40000400L, vcpu.kernel.oneRegLong(KvmCoreRegs.PC));
        assertEquals(0x80000000L, vcpu.kernel.oneRegLong(Aarch64ExceptionRegs.SPSR_EL1));
        assertEquals(0x800003c5L, vcpu.kernel.oneRegLong(KvmCoreRegs.PSTATE));
    }

    @Test
    void aReinjectedWatchpointAtEl1CarriesTheCurrentElClassAndFar() {
        guestDebug.apply(vcpu, new DebugControl(false, false, false, List.of(new HardwareSlot(HardwareSlot.Kind.WRITE, 0x41000000L, 8))));
        vcpu.kernel.presetOneReg(KvmCoreRegs.PSTATE, 0x5L);
        vcpu.kernel.presetOneReg(Aarch64ExceptionRegs.VBAR_EL1, 0x40000000L);
        DebugStop stop = exit(4, (0x34 << 26) | IL | 0x40, 0x41000004L).orElseThrow();
        classifier.reinject(vcpu, stop);
        assertWrites(
                KvmCoreRegs.ELR_EL1, PC,
                Aarch64ExceptionRegs.SPSR_EL1, 0x5L,
                Aarch64ExceptionRegs.ESR_EL1, (0x35L << 26) | IL | 0x40,
                Aarch64ExceptionRegs.FAR_EL1, 0x41000004L,
                KvmCoreRegs.PSTATE, 0x3c5L,
                KvmCoreRegs.PC, 0x40000200L);
    }

    private void assertWrites(long... idValue) {
        List<long[]> writes = vcpu.oneRegWrites();
        assertEquals(idValue.length / 2, writes.size(), "ONE_REG writes");
        for (int i = 0; i < writes.size(); i++) {
            assertArrayEquals(new long[] {idValue[2 * i], idValue[2 * i + 1]}, writes.get(i),
                    "write " + i + ": id " + Long.toHexString(writes.get(i)[0]) + " = " + Long.toHexString(writes.get(i)[1]));
        }
    }
}

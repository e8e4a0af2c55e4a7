package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.BootState.BootParameters;
import org.kvmgdb.api.arch.DebugStop;
import org.kvmgdb.api.arch.DebugStop.Kind;
import org.kvmgdb.api.hypervisor.KvmRunHeader;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.FakeVm;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.arch.x86.fake.Recorded;
import org.kvmgdb.api.hypervisor.testing.TestMemory;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.arch.x86.kvm.KvmRegs;
import org.kvmgdb.arch.x86.kvm.KvmRun;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

class X86StopClassifierTest {
    private final X86StopClassifier classifier = new X86StopClassifier();

    private static FakeVcpu vcpuAtRip(long rip) {
        return new FakeVcpu().kernelState(KvmIoctls.KVM_GET_REGS, new KvmRegs().rip(rip).toBytes());
    }

    private Optional<DebugStop> classify(FakeVcpu vcpu, String runHex) {
        ByteBuffer run = Hex.buffer(runHex, 4096);
        return classifier.classify(vcpu, KvmRun.exitReason(run), run);
    }

    /** A KVM_EXIT_DEBUG kvm_run as arch/x86/kvm/vmx/vmx.c handle_exception_nmi fills it on hardware KVM. */
    private static String debugExit(int exception, long pc, long dr6, long dr7) {
        ByteBuffer b = ByteBuffer.allocate(128).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(8, KvmRunHeader.KVM_EXIT_DEBUG).putInt(32, exception).putLong(40, pc).putLong(48, dr6).putLong(56, dr7);
        return Hex.of(b.array());
    }

    // ---- recorded on this PVM host ----

    @Test
    void recordedSingleStep() {
        FakeVcpu vcpu = new FakeVcpu();
        assertEquals(Optional.of(new DebugStop(Kind.SINGLE_STEP, 0x100007, -1)), classify(vcpu, Recorded.RUN_SINGLE_STEP));
        assertTrue(vcpu.calls().isEmpty(), "everything needed is in kvm_run");
    }

    @Test
    void recordedHardwareBreakpointWithoutDr7InKvmRun() {
        assertEquals(Optional.of(new DebugStop(Kind.HARDWARE_BREAKPOINT, 0x10000c, 0)),
                classify(new FakeVcpu(), Recorded.RUN_HW_BREAKPOINT));
    }

    @Test
    void recordedInt3AsEmulationFailureIsASoftwareBreakpointAtRip() {
        FakeVcpu vcpu = vcpuAtRip(0x100015);
        assertEquals(Optional.of(new DebugStop(Kind.SOFTWARE_BREAKPOINT, 0x100015, -1)),
                classify(vcpu, Recorded.RUN_INT3_EMULATION_FAILURE));
        assertEquals(List.of("KVM_GET_REGS"), vcpu.callNames());
    }

    @Test
    void recordedEmulationFailureOfAnotherInstructionIsNoDebugStop() {
        FakeVcpu vcpu = vcpuAtRip(0x100007);
        assertEquals(Optional.empty(), classify(vcpu, Recorded.RUN_MOVQ_EMULATION_FAILURE));
        assertTrue(vcpu.calls().isEmpty(), "the bytes in kvm_run decide");
    }

    // ---- hardware KVM shapes, built from the header layout ----

    @Test
    void breakpointExceptionPcIsTheInt3Address() {
        FakeVcpu vcpu = new FakeVcpu();
        // VMX leaves dr6/dr7 as they were for #BP; pc = linear RIP of the int3
        assertEquals(Optional.of(new DebugStop(Kind.SOFTWARE_BREAKPOINT, 0x100015, -1)),
                classify(vcpu, debugExit(3, 0x100015, 0, 0)));
        assertTrue(vcpu.calls().isEmpty());
    }

    @Test
    void dataMatchIsAWatchpointInItsSlot() {
        long dr7 = 0x600 | DebugRegisters.globalEnable(1) | (0b1101L << 20); // slot 1: write, 4 bytes
        assertEquals(Optional.of(new DebugStop(Kind.WATCHPOINT, 0x100015, 1)),
                classify(new FakeVcpu(), debugExit(1, 0x100015, 0xFFFF0FF2L, dr7)));
    }

    @Test
    void watchpointWinsOverAStepReportedWithIt() {
        long dr7 = 0x600 | DebugRegisters.globalEnable(3) | (0b1111L << 28); // slot 3: read/write, 4 bytes
        assertEquals(Optional.of(new DebugStop(Kind.WATCHPOINT, 0x10000d, 3)),
                classify(new FakeVcpu(), debugExit(1, 0x10000d, 0xFFFF4FF8L, dr7)));
    }

    @Test
    void executeSlotMatchIsAHardwareBreakpoint() {
        long dr7 = 0x600 | DebugRegisters.globalEnable(0) | DebugRegisters.globalEnable(2) | (0b1101L << 16);
        assertEquals(Optional.of(new DebugStop(Kind.HARDWARE_BREAKPOINT, 0x200000, 2)),
                classify(new FakeVcpu(), debugExit(1, 0x200000, 0xFFFF0FF4L, dr7)));
    }

    @Test
    void stepWinsOverAnExecuteMatch() {
        long dr7 = 0x600 | DebugRegisters.globalEnable(0);
        assertEquals(Optional.of(new DebugStop(Kind.SINGLE_STEP, 0x200000, -1)),
                classify(new FakeVcpu(), debugExit(1, 0x200000, 0xFFFF4FF1L, dr7)));
    }

    @Test
    void debugExitWithNoKnownCauseIsNoStop() {
        assertEquals(Optional.empty(), classify(new FakeVcpu(), debugExit(1, 0x200000, 0xFFFF0FF0L, 0x600)));
        assertEquals(Optional.empty(), classify(new FakeVcpu(), debugExit(6, 0x200000, 0, 0)));
    }

    @Test
    void otherExitsAreNoDebugStops() {
        FakeVcpu vcpu = new FakeVcpu();
        ByteBuffer run = Hex.buffer(Recorded.RUN_INT3_EMULATION_FAILURE, 4096);
        assertEquals(Optional.empty(), classifier.classify(vcpu, KvmRunHeader.KVM_EXIT_IO, run));
        assertEquals(Optional.empty(), classifier.classify(vcpu, KvmRunHeader.KVM_EXIT_HLT, run));
        run.putInt(KvmRun.INTERNAL_SUBERROR, 3); // KVM_INTERNAL_ERROR_DELIVERY_EV
        assertEquals(Optional.empty(), classifier.classify(vcpu, KvmRunHeader.KVM_EXIT_INTERNAL_ERROR, run));
        assertTrue(vcpu.calls().isEmpty());
    }

    /** The stepped watchpoint's per-step question answers what classify would, for every shape, without touching the vCPU. */
    @Test
    void singleSteppedIsExactlyAClassifiedSingleStep() {
        long dataSlot1 = 0x600 | DebugRegisters.globalEnable(1) | (0b1101L << 20);
        long rwSlot3 = 0x600 | DebugRegisters.globalEnable(3) | (0b1111L << 28);
        long executeSlot0 = 0x600 | DebugRegisters.globalEnable(0);
        List<String> steps = List.of(Recorded.RUN_SINGLE_STEP, debugExit(1, 0x200000, 0xFFFF4FF1L, executeSlot0));
        List<String> others = List.of(Recorded.RUN_HW_BREAKPOINT, Recorded.RUN_MOVQ_EMULATION_FAILURE,
                debugExit(3, 0x100015, 0, 0), debugExit(1, 0x100015, 0xFFFF0FF2L, dataSlot1),
                debugExit(1, 0x10000d, 0xFFFF4FF8L, rwSlot3), debugExit(1, 0x200000, 0xFFFF0FF0L, 0x600),
                debugExit(6, 0x200000, 0, 0));
        for (String shape : steps) {
            FakeVcpu vcpu = new FakeVcpu();
            ByteBuffer run = Hex.buffer(shape, 4096);
            assertTrue(classifier.singleStepped(vcpu, KvmRun.exitReason(run), run), shape);
            assertTrue(vcpu.calls().isEmpty(), "kvm_run alone decides: " + shape);
            assertEquals(Kind.SINGLE_STEP, classify(vcpu, shape).orElseThrow().kind());
        }
        for (String shape : others) {
            FakeVcpu vcpu = new FakeVcpu();
            ByteBuffer run = Hex.buffer(shape, 4096);
            assertEquals(false, classifier.singleStepped(vcpu, KvmRun.exitReason(run), run), shape);
            assertTrue(vcpu.calls().isEmpty(), "kvm_run alone decides: " + shape);
            assertTrue(classify(vcpuAtRip(0x100007), shape).map(s -> s.kind() != Kind.SINGLE_STEP).orElse(true), shape);
        }
        ByteBuffer step = Hex.buffer(Recorded.RUN_SINGLE_STEP, 4096);
        assertEquals(false, classifier.singleStepped(new FakeVcpu(), KvmRunHeader.KVM_EXIT_IO, step), "only a KVM_EXIT_DEBUG is a step");
    }

    /** A kernel that reports the emulation failure without instruction bytes: the byte at RIP is read through the page tables. */
    @Test
    void withoutInstructionBytesTheByteAtRipDecides() {
        TestMemory ram = TestMemory.sparse(16L << 20);
        new X86BootState().prepareMemory(ram, new BootParameters(0x100000, 1, 16L << 20, 64 * 1024));
        ram.write(0x100015, new byte[] {(byte) 0xCC, (byte) 0x90}, 0, 2);
        KvmSregs sregs = new KvmSregs().set(KvmSregs.CR0, X86BootState.CR0).set(KvmSregs.CR3, X86BootState.PML4_ADDRESS)
                .set(KvmSregs.CR4, X86BootState.CR4).set(KvmSregs.EFER, X86BootState.EFER);
        String oldKernel = "0000000000000000" + "11000000" + "00000000" + "0000000000000000" + "0000000000000000"
                + "01000000" + "00000000";
        FakeVcpu at = new FakeVcpu(0, new FakeVm(ram))
                .kernelState(KvmIoctls.KVM_GET_REGS, new KvmRegs().rip(0x100015).toBytes())
                .kernelState(KvmIoctls.KVM_GET_SREGS, sregs.toBytes());
        assertEquals(Optional.of(new DebugStop(Kind.SOFTWARE_BREAKPOINT, 0x100015, -1)), classify(at, oldKernel));
        FakeVcpu after = new FakeVcpu(0, new FakeVm(ram))
                .kernelState(KvmIoctls.KVM_GET_REGS, new KvmRegs().rip(0x100016).toBytes())
                .kernelState(KvmIoctls.KVM_GET_SREGS, sregs.toBytes());
        assertEquals(Optional.empty(), classify(after, oldKernel));
        FakeVcpu unmapped = new FakeVcpu(0, new FakeVm(ram))
                .kernelState(KvmIoctls.KVM_GET_REGS, new KvmRegs().rip(0x4000_0000L).toBytes())
                .kernelState(KvmIoctls.KVM_GET_SREGS, sregs.toBytes());
        assertEquals(Optional.empty(), classify(unmapped, oldKernel));
    }

    // ---- reinjection ----

    @Test
    void reinjectedInt3IsAnInjectedBreakpointExceptionWithTheRestOfTheEventsKept() {
        FakeVcpu vcpu = new FakeVcpu().kernelState(KvmIoctls.KVM_GET_VCPU_EVENTS, Hex.bytes(Recorded.VCPU_EVENTS));
        classifier.reinject(vcpu, new DebugStop(Kind.SOFTWARE_BREAKPOINT, 0x100015, -1));
        assertEquals(List.of("KVM_GET_VCPU_EVENTS", "KVM_SET_VCPU_EVENTS"), vcpu.callNames());
        byte[] expected = Hex.bytes(Recorded.VCPU_EVENTS);
        expected[0] = 1; // exception.injected
        expected[1] = 3; // exception.nr = BP_VECTOR
        assertArrayEquals(expected, vcpu.calls(KvmIoctls.KVM_SET_VCPU_EVENTS).get(0).bytes());
    }

    @Test
    void reinjectionClearsAStaleErrorCode() {
        byte[] events = Hex.bytes(Recorded.VCPU_EVENTS);
        events[2] = 1;                       // has_error_code
        events[4] = (byte) 0xAD;             // error_code
        events[5] = (byte) 0xDE;
        FakeVcpu vcpu = new FakeVcpu().kernelState(KvmIoctls.KVM_GET_VCPU_EVENTS, events);
        classifier.reinject(vcpu, new DebugStop(Kind.SOFTWARE_BREAKPOINT, 0x100015, -1));
        byte[] set = vcpu.calls(KvmIoctls.KVM_SET_VCPU_EVENTS).get(0).bytes();
        assertEquals("01030000" + "00000000", Hex.of(java.util.Arrays.copyOf(set, 8)));
    }

    @Test
    void withExceptionPayloadEnabledTheBreakpointIsPending() {
        byte[] events = Hex.bytes(Recorded.VCPU_EVENTS);
        events[20] = 0x1D; // flags: + KVM_VCPUEVENT_VALID_PAYLOAD
        FakeVcpu vcpu = new FakeVcpu().kernelState(KvmIoctls.KVM_GET_VCPU_EVENTS, events);
        classifier.reinject(vcpu, new DebugStop(Kind.SOFTWARE_BREAKPOINT, 0x100015, -1));
        byte[] expected = events.clone();
        expected[1] = 3; // nr
        expected[3] = 1; // pending, not injected
        assertArrayEquals(expected, vcpu.calls(KvmIoctls.KVM_SET_VCPU_EVENTS).get(0).bytes());
    }

    @Test
    void reinjectedStepIsADebugExceptionWithDr6BsSetFirst() {
        FakeVcpu vcpu = new FakeVcpu().kernelState(KvmIoctls.KVM_GET_VCPU_EVENTS, Hex.bytes(Recorded.VCPU_EVENTS));
        classifier.reinject(vcpu, new DebugStop(Kind.SINGLE_STEP, 0x100007, -1));
        assertEquals(List.of("KVM_GET_VCPU_EVENTS", "KVM_GET_DEBUGREGS", "KVM_SET_DEBUGREGS", "KVM_SET_VCPU_EVENTS"),
                vcpu.callNames());
        byte[] debugRegs = vcpu.calls(KvmIoctls.KVM_SET_DEBUGREGS).get(0).bytes();
        assertEquals(0xFFFF4FF0L, Hex.le64(debugRegs, 32), "DR6 = fixed bits | BS");
        byte[] set = vcpu.calls(KvmIoctls.KVM_SET_VCPU_EVENTS).get(0).bytes();
        assertEquals(1, set[0]);
        assertEquals(1, set[1], "DB_VECTOR");
    }

    @Test
    void reinjectedWatchpointWithPayloadCarriesItsDr6Bit() {
        byte[] events = Hex.bytes(Recorded.VCPU_EVENTS);
        events[20] = 0x1D;
        FakeVcpu vcpu = new FakeVcpu().kernelState(KvmIoctls.KVM_GET_VCPU_EVENTS, events);
        classifier.reinject(vcpu, new DebugStop(Kind.WATCHPOINT, 0x10000d, 2));
        assertEquals(List.of("KVM_GET_VCPU_EVENTS", "KVM_SET_VCPU_EVENTS"), vcpu.callNames());
        byte[] set = vcpu.calls(KvmIoctls.KVM_SET_VCPU_EVENTS).get(0).bytes();
        assertEquals("00010001", Hex.of(java.util.Arrays.copyOf(set, 4)), "nr 1, pending");
        assertEquals(1, set[55], "exception_has_payload");
        assertEquals(0b100, Hex.le64(set, 56), "payload: B2");
    }
}

package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.kvmgdb.core.server.GdbServer;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;
import org.kvmgdb.core.testing.LoopbackListener;
import org.kvmgdb.core.testing.RspClient;

/**
 * Watchpoints on the real test guest (src/test/c/guest.c) under {@link KvmTarget} on /dev/kvm:
 * stepped ones (the only kind that fires on a PVM host, KVM-HERE.md), the host's own answer to
 * whether debug registers fire, and the guest's own {@code int3}. Recorded hardware-KVM exits go
 * through the same code in {@link RecordedExitReplayTest}.
 *
 * <p>guest.c's vCPU 0 calls add() three times, then scale(), whose {@code global_counter++} is the
 * one write to {@code global_counter} (0 to 1); nothing writes {@code origin}.
 */
class KvmWatchpointTest {
    private static final int T1 = 1;
    private static final StopEvent.Plain PLAIN = new StopEvent.Plain();
    @RegisterExtension
    final KvmTargetHarness harness = new KvmTargetHarness();

    private final ByteArrayOutputStream serial = new ByteArrayOutputStream();
    private Vm vm;
    private KvmTarget target;
    private long counter;

    /** Booted, attached before the first instruction; {@code debugRegistersFire} decides how watches are served. */
    private void attach(int mode, boolean debugRegistersFire) throws Exception {
        vm = harness.boot(1, serial, mode);
        target = harness.own(new KvmTarget(vm, X86ForTests.provider(), () -> debugRegistersFire));
        target.attach();
        counter = TestGuest.address("global_counter");
    }

    private int counterValue() throws TargetException {
        return (int) TestGuest.le64(harness.read(counter, 8), 0);
    }

    private static StopEvent.Signal trap(StopEvent.Reason reason) {
        return new StopEvent.Signal(T1, StopEvent.SIGTRAP, reason);
    }

    private static StopEvent.Watch write(long address) {
        return new StopEvent.Watch(BreakpointType.WRITE_WATCHPOINT, address);
    }

    private static final StopEvent EXITED = new StopEvent.Exited(TestGuest.EXIT_STATUS);

    /** {@code mov %eax, global_counter(%rip)} in scale(): 89 05 and a 32-bit displacement. */
    private long storeToCounter() throws TargetException {
        long scale = TestGuest.address("scale");
        byte[] code = harness.read(scale, (int) TestGuest.size("scale"));
        for (int i = 0; i + 6 <= code.length; i++) {
            long displacement = (code[i + 2] & 0xFF) | (code[i + 3] & 0xFF) << 8 | (code[i + 4] & 0xFF) << 16 | (long) code[i + 5] << 24;
            if ((code[i] & 0xFF) == 0x89 && (code[i + 1] & 0xFF) == 0x05 && scale + i + 6 + displacement == counter) {
                return scale + i;
            }
        }
        throw new AssertionError("no store to global_counter in scale()");
    }

    @Test
    void aSteppedWriteWatchpointStopsRightAfterTheWritingInstruction() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        assertTrue(target.supports(BreakpointType.WRITE_WATCHPOINT));
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        assertEquals(0, counterValue());

        assertEquals(trap(write(counter)), harness.continueAll());

        assertEquals(1, counterValue(), "global_counter++ happened");
        assertEquals(storeToCounter() + 6, harness.rip(T1), "stopped after the store, where a debug register would have stopped");
        assertEquals("hello from the kvmgdb test guest\n", serial.toString(StandardCharsets.US_ASCII), "everything before it ran");
        // The only write: the guest runs to its end.
        assertEquals(EXITED, harness.continueAll());
    }

    /** What gdb sees on the wire: Z2 accepted, Z3/Z4 answered with an error (not as unsupported), the watch stop reply. */
    @Test
    void onTheWireZ2IsAcceptedZ3AndZ4AreErrorsAndTheStopReplyNamesTheWatchedAddress() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        String at = Long.toHexString(counter);
        LoopbackListener listener = new LoopbackListener();
        try (GdbServer server = new GdbServer(listener, target, SessionOptions.DEFAULTS).start();
                RspClient gdb = new RspClient(listener.port())) {
            assertEquals("E16", gdb.request("Z3," + at + ",4"), "EINVAL: refused, so gdb reports it could not insert it");
            assertEquals("E16", gdb.request("Z4," + at + ",4"));
            assertEquals("OK", gdb.request("Z2," + at + ",4"));

            String stop = gdb.request("c");

            assertTrue(stop.matches("T05thread:0*1;(.*;)?watch:" + at + ";.*"), stop);
            assertEquals("OK", gdb.request("z2," + at + ",4"));
            assertEquals("W" + Integer.toHexString(TestGuest.EXIT_STATUS), gdb.request("c"));
        }
    }

    @Test
    void aRemovedWatchpointNoLongerStops() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        target.removeBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        target.removeBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4); // idempotent

        assertEquals(EXITED, harness.continueAll());
        assertEquals(1, counterValue());
    }

    @Test
    void aWatchOnBytesNobodyWritesNeverStops() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        long origin = TestGuest.address("origin");
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, origin, 8);

        assertEquals(EXITED, harness.continueAll());
        assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void readAndAccessWatchpointsAreRefusedWhenTheyWouldHaveToBeStepped() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        for (BreakpointType type : new BreakpointType[] {BreakpointType.READ_WATCHPOINT, BreakpointType.ACCESS_WATCHPOINT}) {
            assertTrue(target.supports(type), "answered with an error, not as unsupported");
            TargetException e = assertThrows(TargetException.class, () -> target.insertBreakpoint(type, counter, 4));
            assertEquals(TargetException.EINVAL, e.errno(), type.toString());
        }
        assertEquals(EXITED, harness.continueAll(), "nothing was inserted");
    }

    @Test
    void breakpointsAndASteppedWatchpointStopInTurn() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        long add = TestGuest.address("add");
        long scale = TestGuest.address("scale");
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);
        target.insertBreakpoint(BreakpointType.HARDWARE, scale, 1);
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);

        for (int call = 1; call <= 3; call++) {
            assertEquals(trap(new StopEvent.SoftwareBreak()), harness.continueAll(), "add, call " + call);
            assertEquals(add, harness.rip(T1));
        }
        assertEquals(trap(new StopEvent.HardwareBreak()), harness.continueAll());
        assertEquals(scale, harness.rip(T1));
        assertEquals(trap(write(counter)), harness.continueAll());
        assertEquals(1, counterValue());
        assertEquals(trap(new StopEvent.SoftwareBreak()), harness.continueAll(), "add, called by scale");
        assertEquals(EXITED, harness.continueAll());
    }

    @Test
    void aStepOverTheWritingInstructionReportsTheWatchpoint() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        long store = storeToCounter();
        target.insertBreakpoint(BreakpointType.SOFTWARE, store, 1);
        assertEquals(trap(new StopEvent.SoftwareBreak()), harness.continueAll());
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);

        // gdb's stepi: off the breakpoint, one instruction, which is the write.
        assertEquals(trap(write(counter)), harness.step(T1));
        assertEquals(store + 6, harness.rip(T1));
        // The next step writes nothing.
        assertEquals(trap(PLAIN), harness.step(T1));
    }

    @Test
    void whatGdbWritesIsNotReportedButTheGuestsNextWriteIs() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        target.writeMemory(T1, counter, TestGuest.le32(41)); // set var global_counter = 41

        assertEquals(trap(write(counter)), harness.continueAll());
        assertEquals(42, counterValue(), "the guest's own increment, from what gdb wrote");
    }

    @Test
    void aWriteInPhysicalMemoryModeIsNotReportedEither() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        target.writePhysicalMemory(counter, TestGuest.le32(41)); // the guest is identity-mapped

        assertEquals(trap(write(counter)), harness.continueAll());
        assertEquals(42, counterValue());
    }

    @Test
    void aWatchOnUnmappedMemoryIsRefused() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        TargetException e = assertThrows(TargetException.class,
                () -> target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, TestGuest.RAM + 0x1000, 4));
        assertEquals(TargetException.EFAULT, e.errno());
    }

    @Test
    void detachForgetsWatchpoints() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        target.detach();
        assertEquals(TestGuest.EXIT_STATUS, vm.awaitExit().status());
    }

    /**
     * The probe's answer is the truth about this host: where it says data breakpoints fire, a
     * write watch on the debug registers stops the guest; where it says they never do (PVM), the
     * same watch lets the guest run to its end.
     */
    @Test
    void theProbeTellsWhatADebugRegisterWatchpointDoesOnThisHost() throws Exception {
        boolean fire = DataBreakpointProbe.probe(harness.kvm(), X86ForTests.provider());
        attach(TestGuest.MODE_RUN, true);
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);

        StopEvent event = harness.continueAll();

        assertEquals(fire ? trap(write(counter)) : EXITED, event, "the probe said data breakpoints " + (fire ? "fire" : "never fire"));
    }

    /** With debug registers in use, a read watch that finds no free slot is refused; a write watch is stepped instead. */
    @Test
    void whenTheSlotsAreTakenWriteWatchpointsAreSteppedAndReadWatchpointsRefused() throws Exception {
        attach(TestGuest.MODE_RUN, true);
        long never = TestGuest.address("halt_forever"); // not run in MODE_RUN
        for (int i = 0; i < 4; i++) {
            target.insertBreakpoint(BreakpointType.HARDWARE, never + i, 1);
        }
        TargetException full = assertThrows(TargetException.class,
                () -> target.insertBreakpoint(BreakpointType.READ_WATCHPOINT, counter, 4));
        assertEquals(TargetException.ENOSPC, full.errno());

        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);

        assertEquals(trap(write(counter)), harness.continueAll(), "stepped, so it fires even where debug registers do not");
        assertEquals(storeToCounter() + 6, harness.rip(T1));
    }

    /**
     * The guest's own {@code int3} (not one gdb set) goes back to the guest, and gdb hears of no
     * trap: the guest has no IDT, so the #BP it is given shuts its vCPU down, and gdb learns that
     * the VM ended. (On a PVM host the guest could not take any exception anyway, KVM-HERE.md; the
     * exact KVM_SET_VCPU_EVENTS bytes are checked by replaying hardware KVM's exit in
     * {@link RecordedExitReplayTest}.)
     */
    @Test
    void theGuestsOwnInt3GoesBackToTheGuest() throws Exception {
        attach(TestGuest.MODE_INT3, false);

        StopEvent event = harness.continueAll();

        assertEquals(new StopEvent.Terminated(VmExit.GDB_SIGSEGV), event, "not a SIGTRAP stop: the #BP went to the guest");
        assertEquals(VmExit.Kind.SHUTDOWN, vm.exit().orElseThrow().kind());
    }

    @Test
    void guestMemoryViewsSeeTheGuestsWrites() throws Exception {
        attach(TestGuest.MODE_RUN, false);
        var view = vm.memory().view(counter, 4);
        assertEquals(0, view.getInt(0));
        assertEquals(EXITED, harness.continueAll());
        assertEquals(1, view.getInt(0));
        assertArrayEquals(TestGuest.le32(1), harness.read(counter, 4));
    }
}

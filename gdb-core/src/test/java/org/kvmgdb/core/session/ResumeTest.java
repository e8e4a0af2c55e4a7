package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.kvmgdb.core.testing.TestDescriptions.smallExpedited;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/** c s vCont Z/z and Ctrl-C against the MemoryTarget's execution model (4-byte instructions from 0x1000). */
class ResumeTest {

    private static MemoryTarget.Builder target(int threads) {
        return MemoryTarget.builder(TestDescriptions.small(), "pc").threads(threads).instructionSize(4).entry(0x1000);
    }

    private static void negotiate(RspClient gdb) throws Exception {
        gdb.request("qSupported:swbreak+;hwbreak+");
    }

    @Test
    void breakpointThenContinueStopsThereWithSwbreak() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).build()); RspClient gdb = served.connect()) {
            negotiate(gdb);
            assertEquals("OK", gdb.request("Z0,1010,4"));
            assertEquals(Set.of(0x1010L), served.target.breakpoints(BreakpointType.SOFTWARE));
            gdb.post("c");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1010) + "swbreak:;", gdb.awaitReply());
            assertEquals(0x1010, served.target.pc(1));
            assertEquals("1010000000000000", gdb.request("p3"));

            // Stepping off the breakpoint the way gdb does: remove, step, insert, continue.
            assertEquals("OK", gdb.request("z0,1010,4"));
            assertEquals(Set.of(), served.target.breakpoints(BreakpointType.SOFTWARE));
            gdb.post("s");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1014), gdb.awaitReply());
            assertEquals(0x1014, served.target.pc(1));
            assertEquals("OK", gdb.request("Z0,1010,4"));
            assertEquals("OK", gdb.request("Z1,1020,1"));
            gdb.post("c");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1020) + "hwbreak:;", gdb.awaitReply());
            assertEquals(0x1020, served.target.pc(1));
        }
    }

    @Test
    void stepAdvancesOneInstruction() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).build()); RspClient gdb = served.connect()) {
            gdb.post("s");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1004), gdb.awaitReply());
            gdb.post("vCont;s:1");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1008), gdb.awaitReply());
            assertEquals(0x1008, served.target.pc(1));
            assertEquals("0810000000000000", gdb.request("p3"));
        }
    }

    @Test
    void stepActsOnTheHcThreadAndLeavesTheOthers() throws Exception {
        try (ServedTarget served = new ServedTarget(target(2).build()); RspClient gdb = served.connect()) {
            assertEquals("OK", gdb.request("Hc2"));
            gdb.post("s");
            assertEquals("T05thread:2;" + smallExpedited(0, 0x1004), gdb.awaitReply());
            assertEquals(0x1000, served.target.pc(1));
            assertEquals(0x1004, served.target.pc(2));
        }
    }

    @Test
    void vContWithPerThreadActions() throws Exception {
        try (ServedTarget served = new ServedTarget(target(3).build()); RspClient gdb = served.connect()) {
            negotiate(gdb);
            // Thread 2 steps, every other thread continues; the step ends the resume after one round.
            gdb.post("vCont;s:2;c");
            assertEquals("T05thread:2;" + smallExpedited(0, 0x1004), gdb.awaitReply());
            assertEquals(new ResumeRequest(Map.of(2, new ResumeRequest.Step(0)), new ResumeRequest.Continue(0)),
                    served.target.resumes().get(0));
            assertEquals(0x1004, served.target.pc(1));
            assertEquals(0x1004, served.target.pc(2));
            assertEquals(0x1004, served.target.pc(3));

            // Only thread 3 steps; 1 and 2 stay where they are.
            gdb.post("vCont;s:3");
            assertEquals("T05thread:3;" + smallExpedited(0, 0x1008), gdb.awaitReply());
            assertEquals(new ResumeRequest(Map.of(3, new ResumeRequest.Step(0)), null), served.target.resumes().get(1));
            assertEquals(0x1004, served.target.pc(1));
            assertEquals(0x1008, served.target.pc(3));

            // The leftmost action naming a thread wins: thread 1 steps, not continues.
            assertEquals("OK", gdb.request("Z0,1010,4"));
            gdb.post("vCont;s:1;c:1;c");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1008), gdb.awaitReply());
            assertEquals(new ResumeRequest(Map.of(1, new ResumeRequest.Step(0)), new ResumeRequest.Continue(0)),
                    served.target.resumes().get(2));

            // Continue with a signal for one thread only; only thread 2 meets a breakpoint.
            assertEquals("OK", gdb.request("z0,1010,4"));
            served.target.setPc(2, 0x3000);
            assertEquals("OK", gdb.request("Z0,3008,4"));
            gdb.post("vCont;C0b:2;c");
            assertEquals("T05thread:2;" + smallExpedited(0, 0x3008) + "swbreak:;", gdb.awaitReply());
            assertEquals(new ResumeRequest(Map.of(2, new ResumeRequest.Continue(0x0b)), new ResumeRequest.Continue(0)),
                    served.target.resumes().get(3));
        }
    }

    @Test
    void vContNamingAThreadThatDoesNotExistIsAnError() throws Exception {
        try (ServedTarget served = new ServedTarget(target(2).build()); RspClient gdb = served.connect()) {
            assertEquals("E16", gdb.request("vCont;s:7;c"));
            assertEquals("E16", gdb.request("vCont;t:1"));
            assertTrue(served.target.resumes().isEmpty());
        }
    }

    @Test
    void stopSelectsTheStoppedThreadForRegisters() throws Exception {
        try (ServedTarget served = new ServedTarget(target(2).build()); RspClient gdb = served.connect()) {
            served.target.setPc(2, 0x2000);
            assertEquals("OK", gdb.request("Z0,2008,4"));
            gdb.post("c");
            // gdb takes the thread in the stop reply as the current one, without sending Hg.
            assertEquals("T05thread:2;" + smallExpedited(0, 0x2008), gdb.awaitReply());
            assertEquals("0820000000000000", gdb.request("p3"));
            assertEquals("QC2", gdb.request("qC"));
        }
    }

    @Test
    void ctrlCWhileRunningStopsWithSigint() throws Exception {
        try (ServedTarget served = new ServedTarget(target(2).build()); RspClient gdb = served.connect()) {
            gdb.post("c");
            gdb.sendRaw(new byte[] {0x03});
            String stop = gdb.awaitReply(); // the pc an interrupt stops at depends on timing
            assertEquals("T02thread:1;" + smallExpedited(0, served.target.pc(1)), stop);
            assertTrue(served.target.stopped());
            // The session goes on, and the target can run again.
            long breakpoint = served.target.pc(1) + 8;
            assertEquals("OK", gdb.request("Z0," + Long.toHexString(breakpoint) + ",4"));
            gdb.post("c");
            assertEquals("T05thread:1;" + smallExpedited(0, breakpoint), gdb.awaitReply());
        }
    }

    @Test
    void aCtrlCTheTargetFailsToDeliverKeepsTheSessionAndTheNextOneStops() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).build()); RspClient gdb = served.connect()) {
            served.target.failNextInterrupt(new IllegalStateException("tgkill failed (test)"));
            gdb.post("c");
            gdb.sendRaw(new byte[] {0x03});
            gdb.sendRaw(new byte[] {0x03}); // gdb's user presses Ctrl-C again
            String stop = gdb.awaitReply();
            assertEquals("T02thread:1;" + smallExpedited(0, served.target.pc(1)), stop);
            assertEquals("QC1", gdb.request("qC"), "the session goes on");
        }
    }

    @Test
    void aPacketSentWhileRunningIsServedAfterTheStopReply() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).build()); RspClient gdb = served.connect()) {
            gdb.post("c");
            // gdb does not do this in all-stop mode; if a debugger does, the packet waits for the stop.
            gdb.post("qC");
            gdb.sendRaw(new byte[] {0x03});
            String stop = gdb.awaitReply();
            assertEquals("T02thread:1;" + smallExpedited(0, served.target.pc(1)), stop);
            assertEquals("QC1", gdb.awaitReply());
        }
    }

    @Test
    void guestExitIsReportedWithItsStatus() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).exitAt(0x1010, 0x21).build()); RspClient gdb = served.connect()) {
            gdb.post("c");
            assertEquals("W21", gdb.awaitReply());
            assertEquals("W21", gdb.request("?"));
            gdb.close();
            served.awaitSessionEnd();
            // An exited guest has nothing to detach from.
            assertEquals(0, served.target.detachCount());
        }
    }

    @Test
    void watchpointsOnlyWhenTheTargetServesThem() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).build()); RspClient gdb = served.connect()) {
            assertEquals("", gdb.request("Z2,1000,4"));
            assertEquals("", gdb.request("Z3,1000,4"));
            assertEquals("", gdb.request("z4,1000,4"));
            assertEquals("", gdb.request("Z5,1000,4"));
        }
        MemoryTarget watching = target(1).supports(BreakpointType.SOFTWARE, BreakpointType.WRITE_WATCHPOINT).build();
        try (ServedTarget served = new ServedTarget(watching); RspClient gdb = served.connect()) {
            assertEquals("OK", gdb.request("Z2,1000,4"));
            assertEquals(Set.of(0x1000L), watching.breakpoints(BreakpointType.WRITE_WATCHPOINT));
            assertEquals("OK", gdb.request("z2,1000,4"));
            assertEquals("", gdb.request("Z1,1000,1"));
        }
    }

    @Test
    void resumeAtAnAddressIsRefused() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).build()); RspClient gdb = served.connect()) {
            assertEquals("E16", gdb.request("c2000"));
            assertEquals("E16", gdb.request("s2000"));
            assertTrue(served.target.resumes().isEmpty());
        }
    }
}

package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.kvmgdb.core.testing.TestDescriptions.smallExpedited;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/**
 * Several threads (vCPUs) as gdb sees them through the session: the thread list document, per-thread
 * vCont actions as gdb sends them for scheduler-locking, and {@code vCont;r} (range stepping).
 * The MemoryTarget's instructions are 4 bytes long, from 0x1000.
 */
class SmpSessionTest {

    private static MemoryTarget.Builder target(int threads) {
        return MemoryTarget.builder(TestDescriptions.small(), "pc").threads(threads).instructionSize(4).entry(0x1000);
    }

    @Test
    void theThreadListNamesEveryThreadAndSaysWhereItStands() throws Exception {
        MemoryTarget target = target(2).build();
        target.setPc(2, 0x2468);
        try (ServedTarget served = new ServedTarget(target); RspClient gdb = served.connect()) {
            assertTrue(gdb.request("qSupported:swbreak+").contains(";qXfer:threads:read+;"));
            String document = "<?xml version=\"1.0\"?>\n<threads>\n"
                    + "<thread id=\"1\" name=\"cpu 0\">stopped at 0x1000</thread>\n"
                    + "<thread id=\"2\" name=\"cpu 1\">stopped at 0x2468</thread>\n"
                    + "</threads>\n";
            assertEquals("l" + document, gdb.request("qXfer:threads:read::0,fff"));

            // In windows, as gdb reads a long list: m while more follows, l at the end.
            assertEquals("m" + document.substring(0, 40), gdb.request("qXfer:threads:read::0,28"));
            assertEquals("m" + document.substring(40, 80), gdb.request("qXfer:threads:read::28,28"));
            assertEquals("l" + document.substring(80), gdb.request("qXfer:threads:read::50,ff"));
            assertEquals("l", gdb.request("qXfer:threads:read::" + Integer.toHexString(document.length()) + ",10"));
            assertEquals("E00", gdb.request("qXfer:threads:read:other:0,10"), "the thread list has no annex");
        }
    }

    @Test
    void aWindowReadAfterTheTargetRanContinuesTheDocumentItBegan() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).build()); RspClient gdb = served.connect()) {
            String first = gdb.request("qXfer:threads:read::0,20");
            gdb.post("s");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1004), gdb.awaitReply());
            // The pc moved, but a read that goes on from offset 0x20 belongs to the document begun before.
            String rest = gdb.request("qXfer:threads:read::20,fff");
            assertEquals("<?xml version=\"1.0\"?>\n<threads>\n<thread id=\"1\" name=\"cpu 0\">stopped at 0x1000</thread>\n</threads>\n",
                    first.substring(1) + rest.substring(1));
            // A new read starts a new document.
            assertTrue(gdb.request("qXfer:threads:read::0,fff").contains(">stopped at 0x1004<"));
        }
    }

    @Test
    void namesAndExtraInfoAreEscapedForXml() {
        assertEquals("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;", ThreadListXfer.escape("a <b> & \"c\" 'd'"));
    }

    @Test
    void schedulerLockingResumesOnlyTheNamedThread() throws Exception {
        try (ServedTarget served = new ServedTarget(target(2).build()); RspClient gdb = served.connect()) {
            // set scheduler-locking on: gdb names the current thread only; the others stay stopped.
            gdb.post("vCont;c:2");
            gdb.sendRaw(new byte[] {0x03});
            String stop = gdb.awaitReply();
            assertEquals("T02thread:2;" + smallExpedited(0, served.target.pc(2)), stop, "the interrupt names a thread that ran");
            assertEquals(new ResumeRequest(Map.of(2, new ResumeRequest.Continue(0)), null), served.target.resumes().get(0));
            assertEquals(0x1000, served.target.pc(1), "thread 1 never ran");
            assertTrue(served.target.pc(2) >= 0x1000);

            gdb.post("vCont;s:1");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1004), gdb.awaitReply());
            assertEquals(0x1004, served.target.pc(1));
        }
    }

    @Test
    void hgSelectsWhoseRegistersAreRead() throws Exception {
        MemoryTarget target = target(2).build();
        target.setPc(2, 0x2000);
        try (ServedTarget served = new ServedTarget(target); RspClient gdb = served.connect()) {
            assertEquals("OK", gdb.request("T2"), "thread 2 is alive");
            assertEquals("E16", gdb.request("T3"));
            assertEquals("OK", gdb.request("Hg2"));
            assertEquals("0020000000000000", gdb.request("p3"));
            assertEquals("OK", gdb.request("Hg1"));
            assertEquals("0010000000000000", gdb.request("p3"));
        }
    }

    @Test
    void zPlantsThroughTheHgThreadAsMDoes() throws Exception {
        try (ServedTarget served = new ServedTarget(target(2).build()); RspClient gdb = served.connect()) {
            assertEquals("OK", gdb.request("Hg2"));
            assertEquals("OK", gdb.request("Z0,1008,4"));
            assertEquals("OK", gdb.request("Z1,1100,1"));
            assertEquals("OK", gdb.request("Hg1"));
            assertEquals("OK", gdb.request("Z0,100c,4"));
            // Hg0 (any): the current thread, the one of the last stop, as for m.
            assertEquals("OK", gdb.request("Hg0"));
            assertEquals("OK", gdb.request("Z0,1010,4"));
            assertEquals(List.of(2, 2, 1, 1), served.target.breakpointInsertThreads());
            assertEquals(Set.of(0x1008L, 0x100cL, 0x1010L), served.target.breakpoints(BreakpointType.SOFTWARE));
            assertEquals("OK", gdb.request("z0,1008,4"), "removal needs no thread");
            assertEquals(Set.of(0x100cL, 0x1010L), served.target.breakpoints(BreakpointType.SOFTWARE));
        }
    }

    @Test
    void vContRangeStepGoesToTheTargetAsOneRequest() throws Exception {
        try (ServedTarget served = new ServedTarget(target(2).rangeStepping().build()); RspClient gdb = served.connect()) {
            assertEquals("vCont;c;C;s;S;r", gdb.request("vCont?"));
            // next over [0x1000, 0x1010) on thread 1 while thread 2 stays (scheduler-locking step).
            gdb.post("vCont;r1000,1010:1");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1010), gdb.awaitReply());
            assertEquals(new ResumeRequest(Map.of(1, new ResumeRequest.RangeStep(0x1000, 0x1010)), null),
                    served.target.resumes().get(0));
            assertEquals(0x1010, served.target.pc(1), "stopped at the first pc outside the range");
            assertEquals(0x1000, served.target.pc(2));
            assertEquals(1, served.target.resumes().size(), "one packet, one resume");

            // gdb's next with scheduler-locking off: the others continue meanwhile.
            gdb.post("vCont;r1010,1018:1;c");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1018), gdb.awaitReply());
            assertEquals(new ResumeRequest(Map.of(1, new ResumeRequest.RangeStep(0x1010, 0x1018)), new ResumeRequest.Continue(0)),
                    served.target.resumes().get(1));
        }
    }

    @Test
    void vContRangeStepIsRefusedWhereItWasNotOffered() throws Exception {
        try (ServedTarget served = new ServedTarget(target(1).build()); RspClient gdb = served.connect()) {
            assertEquals("vCont;c;C;s;S", gdb.request("vCont?"));
            assertEquals("E16", gdb.request("vCont;r1000,1010:1"));
            assertTrue(served.target.resumes().isEmpty());
        }
    }
}

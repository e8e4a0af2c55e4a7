package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.kvmgdb.core.testing.TestDescriptions.smallExpedited;

import org.junit.jupiter.api.Test;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/** Every vCPU is a thread: H T qC qfThreadInfo qsThreadInfo qThreadExtraInfo qAttached. */
class ThreadsTest {

    @Test
    void threadsAreListedAndSelectable() throws Exception {
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.small(), "pc").threads(3).entry(0x1000).build();
        target.setPc(2, 0x2222);
        try (ServedTarget served = new ServedTarget(target); RspClient gdb = served.connect()) {
            assertEquals("m1,2,3", gdb.request("qfThreadInfo"));
            assertEquals("l", gdb.request("qsThreadInfo"));
            assertEquals("QC1", gdb.request("qC"));
            assertEquals("OK", gdb.request("T3"));
            assertEquals("E16", gdb.request("T4"));
            assertEquals("1", gdb.request("qAttached"));

            assertEquals("OK", gdb.request("Hg2"));
            assertEquals("QC2", gdb.request("qC"));
            assertEquals("2222000000000000", gdb.request("p3"));
            assertEquals("OK", gdb.request("P3=0030000000000000"));
            assertEquals(0x3000, target.pc(2));
            assertEquals(0x1000, target.pc(1));

            assertEquals("E16", gdb.request("Hg9"));
            assertEquals("QC2", gdb.request("qC"));
            // Any thread: back to the current one.
            assertEquals("OK", gdb.request("Hg0"));
            assertEquals("0010000000000000", gdb.request("p3"));
            assertEquals("OK", gdb.request("Hc-1"));
        }
    }

    @Test
    void extraInfoNamesTheThread() throws Exception {
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.small(), "pc").threads(2).entry(0x1000).build();
        try (ServedTarget served = new ServedTarget(target); RspClient gdb = served.connect()) {
            assertEquals(Hex.encodeText("cpu 1, stopped at 0x1000"), gdb.request("qThreadExtraInfo,2"));
            assertEquals("E16", gdb.request("qThreadExtraInfo,5"));
        }
    }

    @Test
    void stopReasonOnConnect() throws Exception {
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.small(), "pc").threads(2).build();
        try (ServedTarget served = new ServedTarget(target); RspClient gdb = served.connect()) {
            gdb.request("qSupported:swbreak+");
            assertEquals("T05thread:1;" + smallExpedited(0, 0), gdb.request("?"));
        }
    }
}

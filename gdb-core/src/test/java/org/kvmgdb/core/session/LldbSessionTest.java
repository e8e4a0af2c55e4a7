package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.kvmgdb.core.testing.TestDescriptions.smallExpedited;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/** What LLDB asks beyond gdb's packets: qHostInfo, qProcessInfo, QListThreadsInStopReply, and the empty replies to the rest. */
class LldbSessionTest {
    /** hex("x86_64-unknown-unknown"), as LLDB's qHostInfo wants the triple. */
    private static final String X86_64_TRIPLE = "7838365f36342d756e6b6e6f776e2d756e6b6e6f776e";

    private static MemoryTarget.Builder x86(int threads) {
        return MemoryTarget.builder(TestDescriptions.x86_64(), "rip").threads(threads).memory(0x100000, 0x1000).entry(0x100000);
    }

    private static MemoryTarget.Builder small(int threads) {
        return MemoryTarget.builder(TestDescriptions.small(), "pc").threads(threads).instructionSize(4).entry(0x1000);
    }

    @Test
    void hostInfoGivesTheGuestsTripleByteOrderAndPointerSize() throws Exception {
        try (ServedTarget served = new ServedTarget(x86(1).build()); RspClient lldb = served.connect()) {
            String reply = lldb.request("qHostInfo");
            assertEquals("triple:" + X86_64_TRIPLE + ";ptrsize:8;endian:little;", reply);
            assertEquals("x86_64-unknown-unknown", new String(Hex.decode(X86_64_TRIPLE), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void processInfoIsTheHostInfoWithThePid() throws Exception {
        try (ServedTarget served = new ServedTarget(x86(2).build()); RspClient lldb = served.connect()) {
            assertEquals("pid:1;triple:" + X86_64_TRIPLE + ";ptrsize:8;endian:little;", lldb.request("qProcessInfo"));
            // Another process (LLDB's platform mode) is not ours to describe.
            assertEquals("", lldb.request("qProcessInfoPID:2"));
        }
    }

    @Test
    void anArchitectureWithoutAKnownTripleGetsEmptyReplies() throws Exception {
        // LLDB then takes the architecture from target.xml, as it does from a stub that lacks these packets.
        try (ServedTarget served = new ServedTarget(small(1).build()); RspClient lldb = served.connect()) {
            assertEquals("", lldb.request("qHostInfo"));
            assertEquals("", lldb.request("qProcessInfo"));
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1000), lldb.request("?"), "the session goes on");
        }
    }

    @Test
    void stopRepliesListEveryThreadAndNameTheStoppedOneOnceLldbAsks() throws Exception {
        try (ServedTarget served = new ServedTarget(small(3).build()); RspClient lldb = served.connect()) {
            // gdb never sends QListThreadsInStopReply: its stop replies stay as they were.
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1000), lldb.request("?"));
            assertEquals("OK", lldb.request("QListThreadsInStopReply"));
            String cpu0 = "hexname:" + Hex.encodeText("cpu 0") + ";";
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1000) + "threads:1,2,3;" + cpu0, lldb.request("?"));
            assertEquals("OK", lldb.request("Z0,1008,4"));
            lldb.post("c");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1008) + "threads:1,2,3;" + cpu0, lldb.awaitReply());
            lldb.post("vCont;s:1");
            assertEquals("T05thread:1;" + smallExpedited(0, 0x100c) + "threads:1,2,3;" + cpu0, lldb.awaitReply());
        }
    }

    @Test
    void threadStopInfoGivesTheStopReplyOfEachThread() throws Exception {
        MemoryTarget target = small(2).build();
        target.setPc(2, 0x2000);
        try (ServedTarget served = new ServedTarget(target); RspClient lldb = served.connect()) {
            assertEquals("OK", lldb.request("QListThreadsInStopReply"));
            assertEquals("OK", lldb.request("Z0,1008,4"));
            lldb.post("c");
            String stop = lldb.awaitReply();
            assertEquals("T05thread:1;" + smallExpedited(0, 0x1008) + "threads:1,2;hexname:" + Hex.encodeText("cpu 0") + ";", stop);
            // The thread that stopped: the same reply again.
            assertEquals(stop, lldb.request("qThreadStopInfo1"));
            // The other one was stopped with it (all-stop; it ran too): signal 0, no reason, its own registers.
            assertEquals(0x2008, target.pc(2));
            assertEquals("T00thread:2;" + smallExpedited(0, 0x2008) + "threads:1,2;hexname:" + Hex.encodeText("cpu 1") + ";",
                    lldb.request("qThreadStopInfo2"));
            assertEquals("E16", lldb.request("qThreadStopInfo3"));
            assertEquals("E16", lldb.request("qThreadStopInfo0"));
        }
    }

    @Test
    void anExitReplyHasNoThreadList() throws Exception {
        try (ServedTarget served = new ServedTarget(small(2).exitAt(0x1010, 0x21).build()); RspClient lldb = served.connect()) {
            assertEquals("OK", lldb.request("QListThreadsInStopReply"));
            lldb.post("c");
            assertEquals("W21", lldb.awaitReply());
        }
    }

    /**
     * lldb-16's connection, packet by packet as {@code --log-packets} recorded it against a guest:
     * the LLDB packets we do not serve get the empty reply ("not supported") and LLDB falls back to
     * gdb's (target.xml for registers, m for memory, qfThreadInfo for threads).
     */
    @Test
    void lldbsHandshakeGetsAnAnswerToEveryPacket() throws Exception {
        try (ServedTarget served = new ServedTarget(x86(1).build()); RspClient lldb = served.connect()) {
            assertEquals("OK", lldb.request("QStartNoAckMode"));
            lldb.noAck(true);
            assertEquals(FeatureHandlers.SUPPORTED, lldb.request("qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+"));
            assertEquals("", lldb.request("QThreadSuffixSupported"));
            assertEquals("OK", lldb.request("QListThreadsInStopReply"));
            assertEquals("triple:" + X86_64_TRIPLE + ";ptrsize:8;endian:little;", lldb.request("qHostInfo"));
            assertEquals("", lldb.request("qVAttachOrWaitSupported"));
            assertEquals("", lldb.request("QEnableErrorStrings"));
            assertEquals("pid:1;triple:" + X86_64_TRIPLE + ";ptrsize:8;endian:little;", lldb.request("qProcessInfo"));
            assertEquals("QC1", lldb.request("qC"));
            String stop = lldb.request("?");
            assertEquals("T05thread:1;", stop.substring(0, "T05thread:1;".length()));
            String tail = "threads:1;hexname:" + Hex.encodeText("cpu 0") + ";";
            assertEquals(tail, stop.substring(stop.length() - tail.length()), stop);
            assertEquals('l', lldb.request("qXfer:features:read:target.xml:0,3fff").charAt(0));
            assertEquals("", lldb.request("qRegisterInfo0"));
            for (String unsupported : new String[] {"qOffsets", "qStructuredDataPlugins", "qSymbol::", "jThreadsInfo",
                    "jThreadExtendedInfo:", "x100000,4", "qMemoryRegionInfo:100000", "qWatchpointSupportInfo:", "qShlibInfoAddr"}) {
                assertEquals("", lldb.request(unsupported), unsupported);
            }
            served.target.poke(0x100000, new byte[] {0x48, 0x31, (byte) 0xed, (byte) 0xe8});
            assertEquals("4831ede8", lldb.request("m100000,4"));
        }
    }
}

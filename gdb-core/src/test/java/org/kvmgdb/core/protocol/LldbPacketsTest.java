package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.protocol.LldbPackets.HostInfo;
import org.kvmgdb.core.protocol.LldbPackets.ListThreadsInStopReply;
import org.kvmgdb.core.protocol.LldbPackets.ProcessInfo;
import org.kvmgdb.core.protocol.LldbPackets.ThreadStopInfo;

class LldbPacketsTest {
    private static Command parse(String packet) {
        return PacketParser.parse(packet.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void theLldbQueriesWeAnswer() {
        assertEquals(new HostInfo(), parse("qHostInfo"));
        assertEquals(new ProcessInfo(), parse("qProcessInfo"));
        assertEquals(new ListThreadsInStopReply(), parse("QListThreadsInStopReply"));
        assertEquals(new ThreadStopInfo(2), parse("qThreadStopInfo2"));
        assertEquals(new ThreadStopInfo(0x1f), parse("qThreadStopInfo1f"));
    }

    @Test
    void qThreadStopInfoNeedsAThreadInHex() {
        assertInstanceOf(Command.Malformed.class, parse("qThreadStopInfo"));
        assertInstanceOf(Command.Malformed.class, parse("qThreadStopInfoxyz"));
        assertInstanceOf(Command.Malformed.class, parse("qThreadStopInfo-1"));
    }

    @Test
    void argumentsOrOtherLldbPacketsAreNotOurs() {
        // qProcessInfoPID:N asks about another process (LLDB's platform mode): not this packet.
        assertEquals(new Command.Unknown("qProcessInfoPID"), parse("qProcessInfoPID:1"));
        assertEquals(new Command.Unknown("qHostInfo"), parse("qHostInfo:1"));
        assertEquals(new Command.Unknown("QListThreadsInStopReply"), parse("QListThreadsInStopReply:1"));
        // What lldb-16 sends and we leave unsupported.
        assertEquals(new Command.Unknown("QThreadSuffixSupported"), parse("QThreadSuffixSupported"));
        assertEquals(new Command.Unknown("qRegisterInfo0"), parse("qRegisterInfo0"));
        assertEquals(new Command.Unknown("j"), parse("jThreadsInfo"));
        assertEquals(new Command.Unknown("x"), parse("x0,0"));
    }
}

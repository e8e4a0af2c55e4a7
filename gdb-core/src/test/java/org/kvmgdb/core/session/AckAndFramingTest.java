package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/** The framing layer as a debugger sees it: acks, NAKs, no-ack mode, bad input that must not end the session. */
class AckAndFramingTest {
    private ServedTarget served;
    private RspClient gdb;

    @BeforeEach
    void start() throws Exception {
        served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").memory(0x10000, 0x40000).build());
        gdb = served.connect();
    }

    @AfterEach
    void stop() throws Exception {
        gdb.close();
        served.close();
    }

    @Test
    void nakGetsTheLastReplyAgain() throws Exception {
        assertEquals("QC1", gdb.request("qC"));
        gdb.sendRaw("-");
        assertEquals("QC1", gdb.readPacket());
        gdb.sendRaw("-");
        assertEquals("QC1", gdb.readPacket());
        gdb.sendRaw("+");
        assertEquals("1", gdb.request("qAttached"));
    }

    @Test
    void noAckModeStopsAcksBothWays() throws Exception {
        assertEquals("OK", gdb.request("QStartNoAckMode"));
        gdb.noAck(true);
        // The next byte must be the reply itself, no '+' before it.
        gdb.sendPacket("qAttached");
        assertEquals("1", gdb.readPacket());
        // A NAK means nothing now: the stub must not resend "1" before answering qC.
        gdb.sendRaw("-");
        gdb.sendPacket("qC");
        assertEquals("QC1", gdb.readPacket());
    }

    @Test
    void badChecksumGetsNakAndTheResentPacketIsServed() throws Exception {
        gdb.sendCorrupted("qAttached");
        gdb.expect('-');
        assertEquals("1", gdb.request("qAttached"));
    }

    @Test
    void garbageBetweenPacketsIsSkipped() throws Exception {
        gdb.sendRaw("noise\r\n\u0000~~");
        assertEquals("QC1", gdb.request("qC"));
        gdb.sendRaw("#1x");
        assertEquals("1", gdb.request("qAttached"));
    }

    @Test
    void packetOverPacketSizeGetsAnErrorAndTheSessionGoesOn() throws Exception {
        int bytes = DebugSession.PACKET_SIZE / 2 + 1;
        StringBuilder big = new StringBuilder("M10000," + Integer.toHexString(bytes) + ":");
        for (int i = 0; i < bytes; i++) {
            big.append("aa");
        }
        assertTrue(big.length() > DebugSession.PACKET_SIZE);
        String reply = gdb.request(big.toString());
        assertTrue(reply.startsWith("E"), reply);
        assertEquals(0, served.target.peek(0x10000, 1)[0], "the oversize write must not happen");
        assertEquals("1", gdb.request("qAttached"));
    }

    @Test
    void packetOfExactlyPacketSizeIsServed() throws Exception {
        // "M010000,1fff9:" is 14 characters; 0x1fff9 bytes are 0x3fff2 hex digits: 0x40000 in all.
        int bytes = 0x1fff9;
        StringBuilder packet = new StringBuilder("M010000,1fff9:");
        for (int i = 0; i < bytes; i++) {
            packet.append("5a");
        }
        assertEquals(DebugSession.PACKET_SIZE, packet.length());
        assertEquals("OK", gdb.request(packet.toString()));
        assertEquals(0x5a, served.target.peek(0x10000 + bytes - 1, 1)[0]);
    }

    @Test
    void interruptWhileStoppedIsIgnoredAndPacketsAroundItAreServed() throws Exception {
        ByteArrayOutputStream burst = new ByteArrayOutputStream();
        burst.writeBytes(RspClient.frame("qC".getBytes(StandardCharsets.US_ASCII), RspClient.checksum("qC".getBytes(StandardCharsets.US_ASCII))));
        burst.write(0x03);
        gdb.sendRaw(burst.toByteArray());
        gdb.expect('+');
        assertEquals("QC1", gdb.readPacket());
        gdb.sendRaw("+");
        assertEquals("1", gdb.request("qAttached"));
    }

    @Test
    void unknownPacketsGetTheEmptyReply() throws Exception {
        assertEquals("", gdb.request("vMustReplyEmpty"));
        assertEquals("", gdb.request("qTStatus"));
        assertEquals("", gdb.request("!"));
        assertEquals("", gdb.request("vFile:setfs:0"));
        assertEquals("1", gdb.request("qAttached"));
    }

    @Test
    void malformedPacketsGetAnErrorAndTheSessionGoesOn() throws Exception {
        assertEquals("E16", gdb.request("mzz,4"));
        assertEquals("E16", gdb.request("vCont;q"));
        assertEquals("E16", gdb.request("M10000,4:00"));
        assertEquals("1", gdb.request("qAttached"));
    }
}

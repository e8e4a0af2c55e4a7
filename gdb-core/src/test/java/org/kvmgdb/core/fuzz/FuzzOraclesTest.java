package org.kvmgdb.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fuzz harnesses' own protocol readings, which decide pass or fail: they must reject what is wrong. */
class FuzzOraclesTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void repliesAcceptOnlyAcksAndWellFramedPackets() {
        List<byte[]> replies = Wire.replies(bytes("+$OK#9a-$#00+"));
        assertEquals(2, replies.size());
        assertArrayEquals(bytes("OK"), replies.get(0));
        assertThrows(AssertionError.class, () -> Wire.replies(bytes("$OK#9b")), "wrong checksum");
        assertThrows(AssertionError.class, () -> Wire.replies(bytes("x$OK#9a")), "a byte outside any packet");
        assertThrows(AssertionError.class, () -> Wire.replies(bytes("$O$K#9a")), "a raw $ in a reply");
        assertThrows(AssertionError.class, () -> Wire.replies(bytes("$OK#9")), "cut short");
    }

    @Test
    void stepsEndAfterEachPacketOrControlByte() {
        List<Wire.Step> steps = Wire.steps(bytes("+junk$m10,1#2b\u0003$cut$g#67$bad#00tail"));
        assertEquals(List.of("+", "junk$m10,1#2b", "\u0003", "$cut$g#67", "$bad#00", "tail"),
                steps.stream().map(s -> new String(s.bytes(), StandardCharsets.ISO_8859_1)).toList());
        assertEquals("m10,1", steps.get(1).text());
        assertEquals("g", steps.get(3).text());
        assertTrue(!steps.get(4).isPacket(), "a wrong checksum is no packet");
    }

    @Test
    void theShadowModelReadsOnlyWellFormedWrites() {
        MemoryRequest.Write m = MemoryRequest.write(bytes("M1000,2:0aFF"));
        assertEquals(0x1000, m.address());
        assertArrayEquals(new byte[] {0x0a, (byte) 0xff}, m.data());
        assertArrayEquals(new byte[] {'$', 'a'}, MemoryRequest.write(bytes("X0000000000001001,2:}\u0004a")).data());
        assertNull(MemoryRequest.write(bytes("M1000,3:0a0b")), "length and data disagree");
        assertNull(MemoryRequest.write(bytes("X1000,1:}")), "ends inside an escape");
        assertNull(MemoryRequest.write(bytes("M10000000000000000,1:00")), "address over 64 bits");
        assertNull(MemoryRequest.write(bytes("M1000,1:0g")), "not hex");
    }

    @Test
    void theDecoderOracleFollowsTheFramingRules() {
        assertEquals(List.of("Ack", "packet:g", "Interrupt", "bad:m/0/109", "Nak"),
                DecoderHarness.reference(bytes("+$g#67\u0003$m#00x-")));
        assertEquals(List.of("packet:g"), DecoderHarness.reference(bytes("$cut$g#67$unfinished")));
    }
}

package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacketDecoderTest {

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static List<WireEvent> decode(PacketDecoder decoder, byte[] bytes) {
        List<WireEvent> events = new ArrayList<>();
        decoder.feed(bytes, 0, bytes.length, events::add);
        return events;
    }

    private static String payload(WireEvent e) {
        return new String(assertInstanceOf(WireEvent.Packet.class, e).payload(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void decodesAcksPacketsAndInterruptsInOrder() {
        List<WireEvent> events = decode(new PacketDecoder(0x4000), ascii("+$g#67-\u0003$OK#9a"));
        assertEquals(5, events.size());
        assertInstanceOf(WireEvent.Ack.class, events.get(0));
        assertEquals("g", payload(events.get(1)));
        assertInstanceOf(WireEvent.Nak.class, events.get(2));
        assertInstanceOf(WireEvent.Interrupt.class, events.get(3));
        assertEquals("OK", payload(events.get(4)));
    }

    @Test
    void packetSplitAcrossAnyChunksIsTheSame() {
        byte[] stream = ascii("$qSupported:swbreak+#" + Hex.byte2(Framing.checksum(ascii("qSupported:swbreak+"))));
        for (int split = 0; split <= stream.length; split++) {
            PacketDecoder decoder = new PacketDecoder(0x4000);
            List<WireEvent> events = new ArrayList<>();
            decoder.feed(stream, 0, split, events::add);
            decoder.feed(stream, split, stream.length - split, events::add);
            assertEquals(1, events.size(), "split at " + split);
            assertEquals("qSupported:swbreak+", payload(events.get(0)));
        }
    }

    @Test
    void garbageBetweenPacketsIsSkippedAndCounted() {
        PacketDecoder decoder = new PacketDecoder(0x4000);
        List<WireEvent> events = decode(decoder, ascii("hello\r\n$g#67 junk $?#3f"));
        assertEquals(2, events.size());
        assertEquals("g", payload(events.get(0)));
        assertEquals("?", payload(events.get(1)));
        assertEquals("hello\r\n".length() + " junk ".length(), decoder.garbageBytes());
    }

    @Test
    void badChecksumIsReportedWithBothValues() {
        List<WireEvent> events = decode(new PacketDecoder(0x4000), ascii("$g#68"));
        WireEvent.BadChecksum bad = assertInstanceOf(WireEvent.BadChecksum.class, events.get(0));
        assertEquals(0x68, bad.received());
        assertEquals(0x67, bad.computed());
        assertArrayEquals(ascii("g"), bad.payload());
    }

    @Test
    void nonHexChecksumIsABadChecksum() {
        List<WireEvent> events = decode(new PacketDecoder(0x4000), ascii("$g#zz$g#67"));
        assertInstanceOf(WireEvent.BadChecksum.class, events.get(0));
        assertEquals("g", payload(events.get(1)));
    }

    @Test
    void interruptByteInsideAPayloadIsData() {
        byte[] payload = {'X', '0', ',', '1', ':', 0x03};
        List<WireEvent> events = decode(new PacketDecoder(0x4000), RspFrames.frame(payload));
        assertEquals(1, events.size());
        assertArrayEquals(payload, assertInstanceOf(WireEvent.Packet.class, events.get(0)).payload());
    }

    @Test
    void aDollarInsideAPacketStartsOver() {
        PacketDecoder decoder = new PacketDecoder(0x4000);
        List<WireEvent> events = decode(decoder, ascii("$m100,$g#67"));
        assertEquals(1, events.size());
        assertEquals("g", payload(events.get(0)));
        assertTrue(decoder.garbageBytes() > 0);
    }

    @Test
    void packetOverTheLimitIsReportedNotStored() {
        PacketDecoder decoder = new PacketDecoder(16);
        byte[] big = new byte[17];
        java.util.Arrays.fill(big, (byte) 'a');
        List<WireEvent> events = decode(decoder, RspFrames.frame(big));
        WireEvent.Oversize oversize = assertInstanceOf(WireEvent.Oversize.class, events.get(0));
        assertEquals(17, oversize.length());
        assertTrue(oversize.checksumOk());
        // Exactly at the limit is fine, and the decoder carries on after an oversize packet.
        byte[] limit = java.util.Arrays.copyOf(big, 16);
        events = decode(decoder, RspFrames.frame(limit));
        assertArrayEquals(limit, assertInstanceOf(WireEvent.Packet.class, events.get(0)).payload());
    }

    /** Framing written out independently of {@link Framing}, so the decoder is not tested against itself. */
    static final class RspFrames {
        static byte[] frame(byte[] payload) {
            int sum = 0;
            for (byte b : payload) {
                sum += b & 0xff;
            }
            byte[] out = new byte[payload.length + 4];
            out[0] = '$';
            System.arraycopy(payload, 0, out, 1, payload.length);
            out[payload.length + 1] = '#';
            byte[] cs = String.format("%02x", sum & 0xff).getBytes(StandardCharsets.US_ASCII);
            out[payload.length + 2] = cs[0];
            out[payload.length + 3] = cs[1];
            return out;
        }
    }
}

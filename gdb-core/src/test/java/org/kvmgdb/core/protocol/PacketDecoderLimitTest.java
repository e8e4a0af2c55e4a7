package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decoder's count of an oversize packet's bytes must survive a payload past 2 GiB (a stream, not a packet). */
class PacketDecoderLimitTest {

    @Test
    void aPayloadLongerThanIntegerMaxValueIsStillOneOversizePacket() {
        PacketDecoder decoder = new PacketDecoder(0x4000);
        List<WireEvent> events = new ArrayList<>();
        decoder.feed((byte) '$', events::add);
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) 'a');
        long total = (1L << 31) + (1 << 20); // past Integer.MAX_VALUE
        for (long fed = 0; fed < total; fed += chunk.length) {
            decoder.feed(chunk, 0, chunk.length, events::add);
        }
        assertEquals(List.of(), events, "nothing is reported before the packet ends");
        // 'a' is 0x61; 2^31 + 2^20 of them sum to 0 modulo 256.
        byte[] end = "#00$qC#b4".getBytes(StandardCharsets.US_ASCII);
        decoder.feed(end, 0, end.length, events::add);
        assertEquals(2, events.size(), events.toString());
        WireEvent.Oversize oversize = assertInstanceOf(WireEvent.Oversize.class, events.get(0));
        assertTrue(oversize.checksumOk());
        assertTrue(oversize.length() > 0x4000, "length " + oversize.length());
        assertEquals("qC", new String(assertInstanceOf(WireEvent.Packet.class, events.get(1)).payload(), StandardCharsets.US_ASCII));
    }
}

package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FramingTest {

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void checksumIsTheByteSumModulo256() {
        // Values from gdb sessions: $OK#9a, $qSupported#37, $g#67.
        assertEquals(0x9a, Framing.checksum(ascii("OK")));
        assertEquals(0x37, Framing.checksum(ascii("qSupported")));
        assertEquals(0x67, Framing.checksum(ascii("g")));
        assertEquals(0x00, Framing.checksum(new byte[0]));
        // Wraps: 0xff + 0x02 = 0x101.
        assertEquals(0x01, Framing.checksum(new byte[] {(byte) 0xff, 0x02}));
    }

    @Test
    void frameWrapsPayloadWithChecksum() {
        assertEquals("$OK#9a", new String(Framing.frame(ascii("OK")), StandardCharsets.ISO_8859_1));
        assertEquals("$#00", new String(Framing.frame(new byte[0]), StandardCharsets.ISO_8859_1));
        assertEquals("$T05thread:1;#" + Hex.byte2(Framing.checksum(ascii("T05thread:1;"))),
                new String(Framing.frame(ascii("T05thread:1;")), StandardCharsets.ISO_8859_1));
    }

    @Test
    void escapeReplacesTheFourSpecialBytesAndNothingElse() {
        byte[] data = {'$', '#', '}', '*', 0x00, 0x03, 'a', (byte) 0xff};
        byte[] escaped = Framing.escape(data);
        assertArrayEquals(new byte[] {'}', 0x04, '}', 0x03, '}', 0x5d, '}', 0x0a, 0x00, 0x03, 'a', (byte) 0xff}, escaped);
    }

    @Test
    void unescapeRoundTripsEveryByteValue() throws Exception {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        byte[] escaped = Framing.escape(all);
        assertEquals(256 + 4, escaped.length);
        for (byte b : escaped) {
            // After escaping, no raw packet delimiter is left in the data.
            if (b == '$' || b == '#') {
                throw new AssertionError("raw delimiter left in escaped data");
            }
        }
        assertArrayEquals(all, Framing.unescape(escaped, 0, escaped.length));
    }

    @Test
    void unescapeLeavesAStarAloneBecauseGdbNeverRunLengthEncodes() throws Exception {
        byte[] data = ascii("a*b");
        assertArrayEquals(data, Framing.unescape(data, 0, data.length));
    }

    @Test
    void dataEndingInsideAnEscapeIsMalformed() {
        byte[] data = {'a', '}'};
        assertThrows(MalformedPacketException.class, () -> Framing.unescape(data, 0, data.length));
    }
}

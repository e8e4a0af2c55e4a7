package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.testing.RspClient;

/** The reused reply frame gives gdb the same bytes as framing a freshly built payload. */
class FrameBufferTest {

    @Test
    void aHexReplyIsFramedAsTheHexStringWouldBe() {
        FrameBuffer frame = new FrameBuffer(4); // small: every reply below makes it grow
        Random random = new Random(11);
        for (int length : new int[] {0, 1, 2, 63, 64, 1000, 8190}) {
            byte[] data = new byte[length + 6];
            random.nextBytes(data);
            frame.frameHex(data, 3, length);
            assertEquals(Hex.encode(data, 3, length), expanded(frame), "hex of " + length + " bytes");
            assertArrayEquals(Arrays.copyOf(frame.array(), frame.length()), frame.copy());
        }
    }

    @Test
    void runsOfADigitGoOutRunLengthEncoded() {
        FrameBuffer frame = new FrameBuffer(0);
        frame.frameHex(new byte[8190], 0, 8190);
        String sent = new String(frame.payload(), StandardCharsets.US_ASCII);
        assertTrue(sent.length() < 600, "8190 zero bytes went out as " + sent.length() + " characters");
        assertFalse(sent.contains("#") || sent.contains("$"), "a framing character in " + sent);
        assertEquals("0".repeat(2 * 8190), expanded(frame));
        frame.frameHex(new byte[] {1, 0, 0, 0, 0x10}, 0, 5); // "01" "000000" "10": a zero and five more
        assertEquals("010*\"10", new String(frame.payload(), StandardCharsets.US_ASCII));
        frame.frameHex(new byte[] {0, 0}, 0, 2); // a zero and three more, the shortest run encoded
        assertEquals("0* ", new String(frame.payload(), StandardCharsets.US_ASCII));
        frame.frameHex(new byte[] {0x11, 0x10}, 0, 2); // a 1 and two more: as it is
        assertEquals("1110", new String(frame.payload(), StandardCharsets.US_ASCII));
    }

    /** Every run length from 1 to 300 of one digit between others: gdb reads back exactly the hex, and the checksum holds. */
    @Test
    void everyRunLengthReadsBackAsTheHex() {
        FrameBuffer frame = new FrameBuffer(0);
        for (int run = 1; run <= 300; run++) {
            byte[] data = new byte[run + 2];
            data[0] = 0x12;
            data[run + 1] = 0x34;
            frame.frameHex(data, 0, data.length);
            assertEquals(Hex.encode(data, 0, data.length), expanded(frame), "a run of " + run + " zero bytes");
            byte[] f = frame.copy();
            byte[] payload = frame.payload();
            assertEquals(String.format("%02x", Framing.checksum(payload)), new String(f, f.length - 2, 2, StandardCharsets.US_ASCII));
            for (int i = 0; i + 1 < payload.length; i++) {
                if (payload[i] == '*') {
                    int count = payload[i + 1];
                    assertTrue(count >= 32 && count <= 126 && count != '#' && count != '$', "count character " + count);
                }
            }
        }
    }

    /**
     * Data as memory holds it: runs of bytes with equal digits (00, 55, ff) and with unequal ones
     * (10), of every length up to a few hundred, between random bytes, at the very start and end of
     * the range framed, inside a larger array: gdb reads back exactly the hex.
     */
    @Test
    void mixedRunsAnywhereInTheRangeReadBackAsTheHex() {
        FrameBuffer frame = new FrameBuffer(0);
        Random random = new Random(23);
        byte[] kinds = {0x00, 0x55, (byte) 0xff, 0x10};
        for (int round = 0; round < 200; round++) {
            byte[] data = new byte[1 + random.nextInt(3 * 4096)];
            random.nextBytes(data);
            for (int at = 0; at < data.length; at += 1 + random.nextInt(600)) {
                int run = Math.min(data.length - at, 1 + random.nextInt(round % 2 == 0 ? 8 : 400));
                Arrays.fill(data, at, at + run, kinds[random.nextInt(kinds.length)]);
            }
            int from = random.nextInt(Math.min(data.length, 9));
            int count = data.length - from - (round % 3 == 0 ? 0 : random.nextInt(data.length - from + 1));
            frame.frameHex(data, from, count);
            assertEquals(Hex.encode(data, from, count), expanded(frame), "round " + round);
        }
    }

    private static String expanded(FrameBuffer frame) {
        byte[] f = frame.copy();
        assertEquals('$', f[0]);
        assertEquals('#', f[f.length - 3]);
        assertEquals(String.format("%02x", Framing.checksum(f, 1, f.length - 4)), new String(f, f.length - 2, 2, StandardCharsets.US_ASCII));
        return new String(RspClient.expandRuns(frame.payload()), StandardCharsets.US_ASCII);
    }

    @Test
    void aPlainReplyIsFramedWithItsChecksum() {
        FrameBuffer frame = new FrameBuffer(0);
        frame.frameHex(new byte[4096], 0, 4096); // a large frame first: the buffer is reused for a small one
        frame.frame("OK".getBytes(StandardCharsets.US_ASCII));
        assertEquals("$OK#9a", new String(frame.copy(), StandardCharsets.US_ASCII));
        assertEquals("OK", new String(frame.payload(), StandardCharsets.US_ASCII));
        frame.frame(new byte[0]);
        assertEquals("$#00", new String(frame.copy(), StandardCharsets.US_ASCII));
    }

    @Test
    void hexIsEncodedInPlaceAfterWhatIsAlreadyThere() {
        byte[] out = "xx????????".getBytes(StandardCharsets.US_ASCII);
        int end = Hex.encodeInto(new byte[] {0x00, (byte) 0xab, 0x7f, (byte) 0xff}, 0, 4, out, 2);
        assertEquals(10, end);
        assertEquals("xx00ab7fff", new String(out, StandardCharsets.US_ASCII));
    }
}

package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The reused reply frame gives gdb the same bytes as framing a freshly built payload. */
class FrameBufferTest {

    @Test
    void aHexReplyIsFramedAsTheHexStringWouldBe() {
        FrameBuffer frame = new FrameBuffer(4); // small: every reply below makes it grow
        Random random = new Random(11);
        for (int length : new int[] {0, 1, 2, 63, 64, 1000, 8190}) {
            byte[] data = new byte[length + 6];
            random.nextBytes(data);
            byte[] expected = Framing.frame(Replies.ascii(Hex.encode(data, 3, length)));
            frame.frameHex(data, 3, length);
            assertArrayEquals(expected, Arrays.copyOf(frame.array(), frame.length()), "hex of " + length + " bytes");
            assertArrayEquals(expected, frame.copy());
        }
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

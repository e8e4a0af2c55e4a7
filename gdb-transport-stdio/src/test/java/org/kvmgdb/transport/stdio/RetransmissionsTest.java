package org.kvmgdb.transport.stdio;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** gdb's opening over a pipe to a stub that was slow to start: its qSupported, sent again every remotetimeout. */
class RetransmissionsTest {
    private static final String QSUPPORTED = "$qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386#6a";

    @Test
    void copiesOfTheOpeningPacketWaitingAtTheFirstReadAreDropped() throws IOException {
        String waiting = "+" + QSUPPORTED + QSUPPORTED + QSUPPORTED + QSUPPORTED;
        assertEquals("+" + QSUPPORTED, readAll(new Retransmissions(stream(waiting))));
    }

    @Test
    void differentPacketsAndLaterRepeatsPassThrough() throws IOException {
        // Only the opening burst is looked at: once it is served, the stream is gdb's, byte for byte.
        Retransmissions in = new Retransmissions(new ChunkedStream("+$qC#b4$g#67", "$g#67$g#67"));
        assertEquals("+$qC#b4$g#67", read(in, 64));
        assertEquals("$g#67$g#67", read(in, 64));
    }

    @Test
    void anythingThatIsNotAcksAndWholePacketsIsLeftAsItIs() throws IOException {
        for (String waiting : new String[] {"$m0,1#fa$m0,1#fa x", "$m0,1#fa$m0,1#f", "\u0003$?#3f$?#3f", "ab$cd#00$cd#00"}) {
            assertEquals(waiting, readAll(new Retransmissions(stream(waiting))), waiting);
        }
    }

    private static InputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(ISO_8859_1));
    }

    private static String readAll(InputStream in) throws IOException {
        return new String(in.readAllBytes(), ISO_8859_1);
    }

    private static String read(InputStream in, int max) throws IOException {
        byte[] buffer = new byte[max];
        int n = in.read(buffer, 0, max);
        return new String(buffer, 0, n, ISO_8859_1);
    }

    /** Hands out one chunk per read, and says nothing more is available in between, as a pipe does between writes. */
    private static final class ChunkedStream extends InputStream {
        private final String[] chunks;
        private int next;

        ChunkedStream(String... chunks) {
            this.chunks = chunks;
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (next == chunks.length) {
                return -1;
            }
            byte[] chunk = chunks[next++].getBytes(ISO_8859_1);
            System.arraycopy(chunk, 0, b, off, chunk.length);
            return chunk.length;
        }

        @Override
        public int available() {
            return 0;
        }
    }
}

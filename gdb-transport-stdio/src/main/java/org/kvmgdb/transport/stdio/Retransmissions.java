package org.kvmgdb.transport.stdio;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * gdb's input as the stub first reads it, with the copies of gdb's opening packet that piled up
 * while the stub was starting taken out.
 *
 * <p>Over a pipe gdb speaks first, before the stub exists: it sends {@code qSupported} at once and,
 * when no ack comes within {@code remotetimeout} (2 s), sends it again, up to three more times
 * (gdb's remote.c, putpkt). A stub that takes longer than that to start (a JVM, a VM to boot, a
 * loaded machine) finds several identical packets waiting. Answering every copy would put gdb one
 * reply behind for the rest of the session ("Remote replied unexpectedly to 'vMustReplyEmpty'"). So
 * of the bytes already waiting at the first read, a packet identical to the one before it is
 * dropped; later reads pass through untouched. Over a socket this cannot happen: gdb connects only
 * once the stub listens.
 */
final class Retransmissions extends FilterInputStream {

    /** The most of the opening burst looked at; gdb's retransmissions of qSupported are a few hundred bytes. */
    private static final int BURST_LIMIT = 64 * 1024;

    private byte[] burst;
    private int position;
    private boolean burstRead;

    Retransmissions(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
        if (!burstRead) {
            burstRead = true;
            burst = readBurst();
            position = 0;
            if (burst == null) {
                return -1;
            }
        }
        if (burst != null && position < burst.length) {
            int n = Math.min(length, burst.length - position);
            System.arraycopy(burst, position, bytes, offset, n);
            position += n;
            return n;
        }
        burst = null;
        return in.read(bytes, offset, length);
    }

    @Override
    public int available() throws IOException {
        return burst != null ? burst.length - position : in.available();
    }

    /** What is waiting now (at least one byte, blocking for it), with repeated packets taken out; null at end of stream. */
    private byte[] readBurst() throws IOException {
        byte[] buffer = new byte[BURST_LIMIT];
        int n = in.read(buffer, 0, buffer.length);
        if (n < 0) {
            return null;
        }
        while (n < buffer.length && in.available() > 0) {
            int more = in.read(buffer, n, Math.min(in.available(), buffer.length - n));
            if (more < 0) {
                break;
            }
            n += more;
        }
        return withoutRepeats(Arrays.copyOf(buffer, n));
    }

    /**
     * {@code bytes} with every packet ({@code $...#xx}) that repeats the packet just before it removed,
     * when {@code bytes} is nothing but acks and complete packets, as gdb's opening is; anything else
     * (a byte outside a packet, a packet cut off) is returned as it is.
     */
    static byte[] withoutRepeats(byte[] bytes) {
        byte[] out = new byte[bytes.length];
        int length = 0;
        int previousStart = -1;
        int previousEnd = -1;
        int i = 0;
        while (i < bytes.length) {
            if (bytes[i] == '+' || bytes[i] == '-') {
                out[length++] = bytes[i++];
                continue;
            }
            int end = bytes[i] == '$' ? frameEnd(bytes, i) : -1;
            if (end < 0) {
                return bytes;
            }
            boolean repeat = previousStart >= 0
                    && Arrays.equals(bytes, previousStart, previousEnd, bytes, i, end);
            if (!repeat) {
                System.arraycopy(bytes, i, out, length, end - i);
                length += end - i;
            }
            previousStart = i;
            previousEnd = end;
            i = end;
        }
        return Arrays.copyOf(out, length);
    }

    /** The index after {@code $payload#xx} starting at {@code start}, or -1 when the frame is not complete here. */
    private static int frameEnd(byte[] bytes, int start) {
        for (int i = start + 1; i < bytes.length; i++) {
            if (bytes[i] == '$') {
                return -1;
            }
            if (bytes[i] == '#') {
                return i + 3 <= bytes.length ? i + 3 : -1;
            }
        }
        return -1;
    }
}

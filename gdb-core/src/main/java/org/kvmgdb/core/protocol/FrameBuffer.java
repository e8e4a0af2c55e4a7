package org.kvmgdb.core.protocol;

import java.util.Arrays;

/**
 * One outgoing packet, {@code $payload#cc}, built in a buffer that is reused from packet to packet,
 * so a reply costs no allocation: the payload is copied (or hex-encoded) in once and summed in the
 * same pass. Not thread-safe; one per session. The frame is valid until the next {@code frame...}.
 */
public final class FrameBuffer {
    /** Per byte value: its high digit, its low digit, and the sum of both digits' ASCII codes. */
    private static final byte[] HIGH = new byte[256];
    private static final byte[] LOW = new byte[256];
    private static final int[] DIGIT_SUM = new int[256];

    static {
        for (int v = 0; v < 256; v++) {
            HIGH[v] = Hex.digitOf(v >>> 4);
            LOW[v] = Hex.digitOf(v);
            DIGIT_SUM[v] = HIGH[v] + LOW[v];
        }
    }

    private byte[] buffer;
    private int length;

    public FrameBuffer(int initialPayloadCapacity) {
        buffer = new byte[initialPayloadCapacity + 4];
    }

    /** Frames {@code payload} as it is (escape binary data first). */
    public FrameBuffer frame(byte[] payload) {
        return frame(payload, 0, payload.length);
    }

    public FrameBuffer frame(byte[] payload, int offset, int count) {
        ensure(count);
        buffer[0] = Framing.START;
        System.arraycopy(payload, offset, buffer, 1, count);
        return close(1 + count, Framing.checksum(payload, offset, count));
    }

    /** Frames the hex of {@code data} (two digits per byte), as an {@code m} or {@code g} reply. */
    public FrameBuffer frameHex(byte[] data, int offset, int count) {
        ensure(2 * count);
        buffer[0] = Framing.START;
        byte[] b = buffer;
        int at = 1;
        int sum = 0;
        // One pass: both digits and their share of the checksum from tables, per byte.
        for (int i = offset, end = offset + count; i < end; i++) {
            int v = data[i] & 0xff;
            b[at] = HIGH[v];
            b[at + 1] = LOW[v];
            sum += DIGIT_SUM[v];
            at += 2;
        }
        return close(at, sum & 0xff);
    }

    private FrameBuffer close(int end, int checksum) {
        buffer[end] = Framing.END;
        buffer[end + 1] = Hex.digitOf(checksum >>> 4);
        buffer[end + 2] = Hex.digitOf(checksum);
        length = end + 3;
        return this;
    }

    private void ensure(int payloadLength) {
        if (buffer.length < payloadLength + 4) {
            buffer = new byte[Math.max(payloadLength + 4, buffer.length * 2)];
        }
    }

    /** The frame's bytes are {@code array()[0 .. length())}. */
    public byte[] array() {
        return buffer;
    }

    public int length() {
        return length;
    }

    /** The payload between {@code $} and {@code #} (a copy, for logs). */
    public byte[] payload() {
        return Arrays.copyOfRange(buffer, 1, length - 3);
    }

    /** A copy of the whole frame, kept to send again after a NAK. */
    public byte[] copy() {
        return Arrays.copyOf(buffer, length);
    }
}

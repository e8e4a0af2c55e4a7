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
    /**
     * Run-length encoding: a character followed by {@code *} and (n + 29) stands for the character
     * and n more of it. n + 29 must be printable, at most {@code ~} (126), and not {@code #} or
     * {@code $}; n from 3, below which the encoding saves nothing (as gdbserver's {@code try_rle} in
     * remote-utils.cc). n up to 97, {@code ~}, the manual's limit; gdbserver stops at 96.
     */
    private static final int MIN_REPEATS = 3;
    private static final int MAX_REPEATS = 97;
    private static final int REPEAT_BIAS = 29;

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

    /**
     * Frames the hex of {@code data} (two digits per byte) as an {@code m} or {@code g} reply, a run
     * of two or more equal bytes with equal digits (00, 11, .. ff) run-length encoded. gdb 13 spends
     * ~20 ns per character it receives (its readchar path), ~5 ms for the 256 K hex digits of a
     * 128 KiB {@code m} reply, and much of the memory gdb dumps is zeros; gdbserver encodes its replies
     * too. Runs are found per byte, not per digit, so other data costs one comparison a byte. No
     * hex digit is a framing, escape or run character, so the runs read unambiguously.
     */
    public FrameBuffer frameHex(byte[] data, int offset, int count) {
        ensure(2 * count);
        buffer[0] = Framing.START;
        byte[] b = buffer;
        int at = 1;
        int sum = 0;
        int end = offset + count;
        int i = offset;
        while (i < end) {
            byte x = data[i];
            int v = x & 0xff;
            if (i + 1 < end && data[i + 1] == x && HIGH[v] == LOW[v]) {
                // The run lasts while each byte equals the next. Arrays.mismatch compares 8 bytes or more
                // at a time (a JIT intrinsic), where a byte loop cost ~0.5 ns a byte under C1 and far more
                // interpreted: 128 KiB of zeros is one call.
                int differs = Arrays.mismatch(data, i + 1, end - 1, data, i + 2, end);
                int bytes = differs < 0 ? end - i : differs + 2;
                byte digit = HIGH[v];
                int left = 2 * bytes; // characters of the run still to send
                while (left > 0) {
                    b[at++] = digit;
                    sum += digit;
                    left--;
                    if (left < MIN_REPEATS) {
                        continue; // one or two more go out as they are
                    }
                    int repeats = Math.min(left, MAX_REPEATS);
                    // '#' and '$' cannot be counts: a shorter run leaves the rest for the next one
                    while (repeats + REPEAT_BIAS == Framing.END || repeats + REPEAT_BIAS == Framing.START) {
                        repeats--;
                    }
                    b[at++] = Framing.RUN_LENGTH;
                    b[at++] = (byte) (repeats + REPEAT_BIAS);
                    sum += Framing.RUN_LENGTH + repeats + REPEAT_BIAS;
                    left -= repeats;
                }
                i += bytes;
            } else {
                b[at] = HIGH[v];
                b[at + 1] = LOW[v];
                sum += DIGIT_SUM[v];
                at += 2;
                i++;
            }
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

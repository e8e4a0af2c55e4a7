package org.kvmgdb.core.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The fuzz harnesses' own reading of the remote protocol's framing, written apart from the
 * production codec so that a bug there cannot hide itself in both ends: cutting gdb's byte stream
 * into steps, and checking that what the stub sends is well framed.
 */
final class Wire {
    private Wire() {
    }

    /**
     * One step of input: bytes that end with a complete {@code $payload#cc} frame, or with a lone
     * {@code + - 0x03}, or the trailing rest. {@code payload} is set when the frame's checksum is right.
     */
    record Step(byte[] bytes, byte[] payload) {
        boolean isPacket() {
            return payload != null;
        }

        String text() {
            return payload == null ? "" : new String(payload, StandardCharsets.ISO_8859_1);
        }
    }

    /** Cuts a stream as gdb would have sent it, one packet or control byte at a time (garbage rides along). */
    static List<Step> steps(byte[] input) {
        List<Step> steps = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < input.length) {
            int c = input[i] & 0xff;
            if (c == '$') {
                int payloadStart = i + 1;
                int j = payloadStart;
                while (j < input.length && input[j] != '#' && input[j] != '$') {
                    j++;
                }
                if (j < input.length && input[j] == '$') {
                    i = j; // cut short by a new '$': the stub drops it; the new packet starts here
                    continue;
                }
                if (j + 2 >= input.length) {
                    break; // incomplete at the end of the input
                }
                int end = j + 3;
                byte[] payload = java.util.Arrays.copyOfRange(input, payloadStart, j);
                int received = hexValue(input[j + 1], input[j + 2]);
                steps.add(new Step(java.util.Arrays.copyOfRange(input, start, end), received == checksum(payload) ? payload : null));
                start = end;
                i = end;
            } else if (c == '+' || c == '-' || c == 0x03) {
                steps.add(new Step(java.util.Arrays.copyOfRange(input, start, i + 1), null));
                start = i + 1;
                i++;
            } else {
                i++;
            }
        }
        if (start < input.length) {
            steps.add(new Step(java.util.Arrays.copyOfRange(input, start, input.length), null));
        }
        return steps;
    }

    static int checksum(byte[] payload) {
        int sum = 0;
        for (byte b : payload) {
            sum += b & 0xff;
        }
        return sum & 0xff;
    }

    private static int hexValue(byte high, byte low) {
        int h = Character.digit(high & 0xff, 16);
        int l = Character.digit(low & 0xff, 16);
        return h < 0 || l < 0 ? -1 : h << 4 | l;
    }

    /** {@code $payload#cc} with the right checksum. */
    static byte[] frame(byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 4);
        out.write('$');
        out.writeBytes(payload);
        out.write('#');
        out.writeBytes(String.format("%02x", checksum(payload)).getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    static byte[] frame(String payload) {
        return frame(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * The reply packets in what the stub sent, which must be nothing but {@code +}, {@code -} and
     * whole {@code $payload#cc} frames with the right checksum (lowercase or uppercase hex) and no raw
     * {@code $ #} in a payload.
     *
     * @throws AssertionError naming the first byte that breaks the framing
     */
    static List<byte[]> replies(byte[] output) {
        List<byte[]> replies = new ArrayList<>();
        int i = 0;
        while (i < output.length) {
            int c = output[i] & 0xff;
            if (c == '+' || c == '-') {
                i++;
                continue;
            }
            if (c != '$') {
                throw new AssertionError(String.format("byte 0x%02x at %d of the stub's output is outside any packet: %s", c, i, printable(output)));
            }
            int j = i + 1;
            while (j < output.length && output[j] != '#') {
                if (output[j] == '$') {
                    throw new AssertionError("raw '$' inside a reply at " + j + ": " + printable(output));
                }
                j++;
            }
            if (j + 2 >= output.length) {
                throw new AssertionError("reply cut short at " + i + ": " + printable(output));
            }
            byte[] payload = java.util.Arrays.copyOfRange(output, i + 1, j);
            int received = hexValue(output[j + 1], output[j + 2]);
            if (received != checksum(payload)) {
                throw new AssertionError("wrong checksum on a reply: " + printable(java.util.Arrays.copyOfRange(output, i, j + 3)));
            }
            replies.add(payload);
            i = j + 3;
        }
        return replies;
    }

    /** Bytes for a failure message: printable ASCII as is, the rest as {@code \xNN}, cut at 2,000 characters. */
    static String printable(byte[] data) {
        StringBuilder b = new StringBuilder();
        for (byte x : data) {
            int c = x & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                b.append((char) c);
            } else {
                b.append(String.format("\\x%02x", c));
            }
            if (b.length() > 2000) {
                return b.append("...").toString();
            }
        }
        return b.toString();
    }
}

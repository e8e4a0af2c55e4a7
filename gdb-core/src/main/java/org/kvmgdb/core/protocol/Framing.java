package org.kvmgdb.core.protocol;

/**
 * Packet framing ({@code $payload#cc}) and the binary escapes of the remote protocol
 * ("Overview" of the GDB manual's Remote Protocol chapter).
 *
 * <p>The checksum is the sum of the payload bytes as sent (after escaping) modulo 256. Binary data
 * escapes a byte with {@code '}'} followed by the byte XOR 0x20. gdb escapes {@code $ # }} and
 * {@code *} in what it sends; we do the same in binary replies, because an unescaped {@code *}
 * would read as run-length encoding to gdb.
 */
public final class Framing {
    public static final byte START = '$';
    public static final byte END = '#';
    public static final byte ESCAPE = '}';
    public static final byte RUN_LENGTH = '*';
    public static final byte ACK = '+';
    public static final byte NAK = '-';
    /** Ctrl-C: gdb's interrupt request, sent raw between packets. */
    public static final byte INTERRUPT = 0x03;

    private Framing() {
    }

    public static int checksum(byte[] data, int offset, int length) {
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += data[offset + i] & 0xff;
        }
        return sum & 0xff;
    }

    public static int checksum(byte[] data) {
        return checksum(data, 0, data.length);
    }

    /** {@code $payload#cc}; the payload goes out as it is (escape binary data first). */
    public static byte[] frame(byte[] payload) {
        byte[] out = new byte[payload.length + 4];
        out[0] = START;
        System.arraycopy(payload, 0, out, 1, payload.length);
        out[payload.length + 1] = END;
        int cs = checksum(payload);
        out[payload.length + 2] = Hex.digitOf(cs >>> 4);
        out[payload.length + 3] = Hex.digitOf(cs);
        return out;
    }

    /** Whether a byte must be escaped in binary data we send. */
    public static boolean needsEscape(int b) {
        return b == START || b == END || b == ESCAPE || b == RUN_LENGTH;
    }

    /** Escapes {@code $ # } *} in binary data for a reply ({@code qXfer}). */
    public static byte[] escape(byte[] data, int offset, int length) {
        ByteBuilder out = new ByteBuilder(length + length / 8);
        for (int i = 0; i < length; i++) {
            int b = data[offset + i] & 0xff;
            if (needsEscape(b)) {
                out.add(ESCAPE);
                out.add(b ^ 0x20);
            } else {
                out.add(b);
            }
        }
        return out.toArray();
    }

    public static byte[] escape(byte[] data) {
        return escape(data, 0, data.length);
    }

    /**
     * Undoes {@code '}'} escapes in binary data gdb sent ({@code X}). gdb never run-length encodes what it
     * sends, so {@code *} is an ordinary byte here.
     *
     * @throws MalformedPacketException when the data ends inside an escape
     */
    public static byte[] unescape(byte[] data, int offset, int length) throws MalformedPacketException {
        ByteBuilder out = new ByteBuilder(length);
        for (int i = 0; i < length; i++) {
            int b = data[offset + i] & 0xff;
            if (b == ESCAPE) {
                if (++i == length) {
                    throw new MalformedPacketException("binary data ends with an escape character");
                }
                out.add((data[offset + i] & 0xff) ^ 0x20);
            } else {
                out.add(b);
            }
        }
        return out.toArray();
    }
}

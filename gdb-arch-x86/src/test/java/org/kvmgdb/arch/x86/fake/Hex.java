package org.kvmgdb.arch.x86.fake;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Hex text to bytes and back, for recorded kernel structs. */
public final class Hex {
    private Hex() {
    }

    /** Parses hex digits, ignoring whitespace. */
    public static byte[] bytes(String hex) {
        String h = hex.replaceAll("\\s+", "");
        if (h.length() % 2 != 0) {
            throw new IllegalArgumentException("odd number of hex digits");
        }
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    public static String of(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x & 0xFF));
        }
        return s.toString();
    }

    /** {@code hex} padded with zeros to {@code size}, in a direct little-endian buffer. */
    public static ByteBuffer buffer(String hex, int size) {
        byte[] b = bytes(hex);
        ByteBuffer buf = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(b).clear();
        return buf;
    }

    public static long le64(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
    }

    public static int le32(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
    }

    public static int le16(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(at) & 0xFFFF;
    }
}

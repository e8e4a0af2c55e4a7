package org.kvmgdb.core.fuzz;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The shadow model's own reading of {@code m addr,len}, {@code M addr,len:hex} and
 * {@code X addr,len:binary} (GDB manual, "Packets"), independent of the stub's parsers.
 */
final class MemoryRequest {
    private MemoryRequest() {
    }

    record Write(long address, byte[] data) {
    }

    /** {@code addr,len} as two numbers (the address 64-bit unsigned), or null when malformed. */
    static long[] addressAndLength(String text) {
        int comma = text.indexOf(',');
        if (comma < 0) {
            return null;
        }
        BigInteger address = number(text.substring(0, comma));
        BigInteger length = number(text.substring(comma + 1));
        if (address == null || length == null || address.bitLength() > 64 || length.bitLength() > 31) {
            return null;
        }
        return new long[] {address.longValue(), length.longValue()};
    }

    /** A write gdb could have meant, or null when the packet is not a well-formed {@code M} or {@code X}. */
    static Write write(byte[] payload) {
        int colon = -1;
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == ':') {
                colon = i;
                break;
            }
        }
        if (payload.length == 0 || colon < 0) {
            return null;
        }
        long[] addrLen = addressAndLength(new String(payload, 1, colon - 1, StandardCharsets.ISO_8859_1));
        if (addrLen == null) {
            return null;
        }
        byte[] data;
        if (payload[0] == 'M') {
            data = hex(new String(payload, colon + 1, payload.length - colon - 1, StandardCharsets.ISO_8859_1));
        } else if (payload[0] == 'X') {
            data = unescape(Arrays.copyOfRange(payload, colon + 1, payload.length));
        } else {
            return null;
        }
        return data == null || data.length != addrLen[1] ? null : new Write(addrLen[0], data);
    }

    /** Pairs of hex digits, or null. */
    static byte[] hex(String text) {
        if (text.length() % 2 != 0) {
            return null;
        }
        byte[] out = new byte[text.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int high = Character.digit(text.charAt(2 * i), 16);
            int low = Character.digit(text.charAt(2 * i + 1), 16);
            if (high < 0 || low < 0) {
                return null;
            }
            out[i] = (byte) (high << 4 | low);
        }
        return out;
    }

    private static BigInteger number(String text) {
        if (text.isEmpty()) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            if (Character.digit(text.charAt(i), 16) < 0) {
                return null;
            }
        }
        return new BigInteger(text, 16);
    }

    /** {@code '}'} then the byte XOR 0x20; null when the data ends inside an escape. */
    private static byte[] unescape(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < data.length; i++) {
            if (data[i] == '}') {
                if (++i == data.length) {
                    return null;
                }
                out.write(data[i] ^ 0x20);
            } else {
                out.write(data[i]);
            }
        }
        return out.toByteArray();
    }
}

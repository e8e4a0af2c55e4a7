package org.kvmgdb.core.protocol;

import java.nio.charset.StandardCharsets;

/** Hex as the remote protocol writes it: two lowercase digits per byte, numbers without a prefix. */
public final class Hex {
    private static final byte[] DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private Hex() {
    }

    /** Value of one hex digit, or -1 when {@code c} is not one. */
    public static int digit(int c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** Two hex digits per byte, as in {@code m} replies and {@code g} packets. */
    public static String encode(byte[] bytes) {
        return encode(bytes, 0, bytes.length);
    }

    public static String encode(byte[] bytes, int offset, int length) {
        byte[] out = new byte[length * 2];
        for (int i = 0; i < length; i++) {
            int b = bytes[offset + i] & 0xff;
            out[2 * i] = DIGITS[b >>> 4];
            out[2 * i + 1] = DIGITS[b & 0xf];
        }
        return new String(out, StandardCharsets.US_ASCII);
    }

    /**
     * Two hex digits per byte into {@code destination} from {@code at}, without allocating: the
     * {@code m} and {@code g} replies are encoded straight into the outgoing frame this way.
     *
     * @return the index after the last digit written
     */
    public static int encodeInto(byte[] bytes, int offset, int length, byte[] destination, int at) {
        for (int i = 0; i < length; i++) {
            int b = bytes[offset + i] & 0xff;
            destination[at++] = DIGITS[b >>> 4];
            destination[at++] = DIGITS[b & 0xf];
        }
        return at;
    }

    /** The lowercase digit of a value from 0 to 15. */
    public static byte digitOf(int value) {
        return DIGITS[value & 0xf];
    }

    /** Hex of a text, as in {@code qThreadExtraInfo} replies. */
    public static String encodeText(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A byte as two digits, as in {@code T05} or {@code E0e}. */
    public static String byte2(int value) {
        return String.valueOf((char) DIGITS[(value >>> 4) & 0xf]) + (char) DIGITS[value & 0xf];
    }

    /**
     * Bytes from an even number of hex digits.
     *
     * @throws MalformedPacketException when the length is odd or a character is not a hex digit
     */
    public static byte[] decode(CharSequence hex) throws MalformedPacketException {
        if (hex.length() % 2 != 0) {
            throw new MalformedPacketException("odd number of hex digits");
        }
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = digit(hex.charAt(2 * i));
            int lo = digit(hex.charAt(2 * i + 1));
            if (hi < 0 || lo < 0) {
                throw new MalformedPacketException("not a hex digit near '" + hex.subSequence(2 * i, 2 * i + 2) + "'");
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    /**
     * An unsigned number of 1 to 16 hex digits (addresses use all 64 bits).
     *
     * @throws MalformedPacketException when empty, too long or not hex
     */
    public static long parseUnsigned(CharSequence hex) throws MalformedPacketException {
        if (hex.length() == 0) {
            throw new MalformedPacketException("number expected");
        }
        // Leading zeros do not count against the 64-bit limit.
        int start = 0;
        while (start < hex.length() - 1 && hex.charAt(start) == '0') {
            start++;
        }
        if (hex.length() - start > 16) {
            throw new MalformedPacketException("number too large: " + hex);
        }
        long value = 0;
        for (int i = start; i < hex.length(); i++) {
            int d = digit(hex.charAt(i));
            if (d < 0) {
                throw new MalformedPacketException("not a hex number: " + hex);
            }
            value = value << 4 | d;
        }
        return value;
    }

    /**
     * An unsigned number of 1 to 16 hex digits in {@code bytes[from .. to)}, or -1 when it is not one
     * (empty, too long, not hex): the hot packets ({@code m}) are read this way, without a String.
     * Callers that get -1 parse the text again with {@link #parseUnsigned(CharSequence)} for the message.
     * (An all-ones address also gives -1 and takes that slower way.)
     */
    public static long parseUnsignedOrMinusOne(byte[] bytes, int from, int to) {
        while (from < to - 1 && bytes[from] == '0') {
            from++; // leading zeros do not count against the 64-bit limit
        }
        if (from >= to || to - from > 16) {
            return -1;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            int d = digit(bytes[i]);
            if (d < 0) {
                return -1;
            }
            value = value << 4 | d;
        }
        return value;
    }

    /** A hex number that must fit a non-negative int (lengths, regnums, kinds). */
    public static int parseInt(CharSequence hex) throws MalformedPacketException {
        long value = parseUnsigned(hex);
        // Unsigned: sixteen digits from 8000000000000000 up are negative as a long.
        if (Long.compareUnsigned(value, Integer.MAX_VALUE) > 0) {
            throw new MalformedPacketException("number out of range: " + hex);
        }
        return (int) value;
    }

    /** A number as gdb writes it: lowercase hex, no leading zeros. */
    public static String number(long value) {
        return Long.toHexString(value);
    }
}

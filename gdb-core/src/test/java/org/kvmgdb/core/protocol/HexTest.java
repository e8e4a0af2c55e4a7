package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HexTest {

    @Test
    void encodesTwoLowercaseDigitsPerByte() {
        assertEquals("00ff7f80", Hex.encode(new byte[] {0, (byte) 0xff, 0x7f, (byte) 0x80}));
        assertEquals("", Hex.encode(new byte[0]));
        assertEquals("6869", Hex.encodeText("hi"));
        assertEquals("0e", Hex.byte2(14));
    }

    @Test
    void decodesEitherCase() throws Exception {
        assertArrayEquals(new byte[] {(byte) 0xab, (byte) 0xcd, 0x01}, Hex.decode("abCD01"));
    }

    @Test
    void rejectsOddLengthAndNonHex() {
        assertThrows(MalformedPacketException.class, () -> Hex.decode("abc"));
        assertThrows(MalformedPacketException.class, () -> Hex.decode("zz"));
    }

    @Test
    void parsesFullSixtyFourBitAddresses() throws Exception {
        assertEquals(0xffffffff80000000L, Hex.parseUnsigned("ffffffff80000000"));
        assertEquals(0x1234L, Hex.parseUnsigned("00000000000000001234"));
        assertThrows(MalformedPacketException.class, () -> Hex.parseUnsigned("1ffffffffffffffff"));
        assertThrows(MalformedPacketException.class, () -> Hex.parseUnsigned(""));
        assertThrows(MalformedPacketException.class, () -> Hex.parseUnsigned("12g"));
        assertThrows(MalformedPacketException.class, () -> Hex.parseInt("80000000"));
    }

    /**
     * Found by the fuzzer: {@code m1039,ffffffffffffffff} passed as length -1 (the long wrapped
     * negative, so "over Integer.MAX_VALUE" missed it) and the session answered E05 from a
     * NegativeArraySizeException.
     */
    @Test
    void parseIntRejectsSixteenDigitNumbersThatWrapNegative() {
        assertThrows(MalformedPacketException.class, () -> Hex.parseInt("ffffffffffffffff"));
        assertThrows(MalformedPacketException.class, () -> Hex.parseInt("8000000000000000"));
    }
}

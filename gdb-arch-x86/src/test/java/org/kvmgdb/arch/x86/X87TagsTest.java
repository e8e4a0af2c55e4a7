package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.arch.x86.kvm.KvmFpu;

class X87TagsTest {
    static final byte[] ONE = Hex.bytes("0000000000000080ff3f");        // 1.0: exponent 0x3fff, integer bit
    static final byte[] ZERO = Hex.bytes("00000000000000000000");
    static final byte[] MINUS_ZERO = Hex.bytes("00000000000000000080");
    static final byte[] INFINITY = Hex.bytes("0000000000000080ff7f");
    static final byte[] DENORMAL = Hex.bytes("01000000000000000000");
    static final byte[] UNNORMAL = Hex.bytes("0000000000000040ff3f");   // integer bit clear, exponent non-zero
    static final byte[] PSEUDO_DENORMAL = Hex.bytes("00000000000000800000");

    @Test
    void classifiesLikeGdbsI387Tag() {
        assertEquals(X87Tags.VALID, X87Tags.classify(ONE));
        assertEquals(X87Tags.ZERO, X87Tags.classify(ZERO));
        assertEquals(X87Tags.ZERO, X87Tags.classify(MINUS_ZERO));
        assertEquals(X87Tags.SPECIAL, X87Tags.classify(INFINITY));
        assertEquals(X87Tags.SPECIAL, X87Tags.classify(DENORMAL));
        assertEquals(X87Tags.SPECIAL, X87Tags.classify(UNNORMAL));
        assertEquals(X87Tags.SPECIAL, X87Tags.classify(PSEUDO_DENORMAL));
    }

    @Test
    void emptyStackIsAllOnes() {
        KvmFpu fpu = new KvmFpu().fcw(0x37F);
        assertEquals(0xFFFF, X87Tags.fullTagWord(fpu));
    }

    /** After {@code fldz; fld1}: TOP = 6, ST(0) = 1.0 in physical register 6, ST(1) = 0.0 in physical 7. */
    @Test
    void fullTagWordIsIndexedByPhysicalRegister() {
        KvmFpu fpu = new KvmFpu().fsw(6 << 11).ftwx(0b1100_0000);
        fpu.putBytes(KvmFpu.st(0), ONE, 0, 10);
        fpu.putBytes(KvmFpu.st(1), ZERO, 0, 10);
        // physical 0-5 empty (11 each), 6 valid (00), 7 zero (01)
        assertEquals(0x4FFF, X87Tags.fullTagWord(fpu));
    }

    @Test
    void stackOrderWrapsAroundTop() {
        // TOP = 1: ST(0) is physical 1, ST(7) is physical 0.
        KvmFpu fpu = new KvmFpu().fsw(1 << 11).ftwx(0b0000_0011);
        fpu.putBytes(KvmFpu.st(0), INFINITY, 0, 10);
        fpu.putBytes(KvmFpu.st(7), ZERO, 0, 10);
        assertEquals(0xFFF0 | (X87Tags.SPECIAL << 2) | X87Tags.ZERO, X87Tags.fullTagWord(fpu));
    }

    @Test
    void abridgingKeepsOneBitPerNonEmptyRegister() {
        assertEquals(0, X87Tags.abridge(0xFFFF));
        assertEquals(0xC0, X87Tags.abridge(0x4FFF));
        assertEquals(0xFF, X87Tags.abridge(0x0000));
        assertEquals(0b0000_0011, X87Tags.abridge(0xFFF0 | (2 << 2) | 1));
    }
}

package org.kvmgdb.arch.x86;

import org.kvmgdb.arch.x86.kvm.KvmFpu;

/**
 * Conversion between FXSAVE's abridged tag byte ({@code kvm_fpu.ftwx}: bit n set when physical
 * register n is not empty) and the full 16-bit x87 tag word GDB shows as {@code ftag} (two bits
 * per physical register: 0 valid, 1 zero, 2 special, 3 empty). The full tags are recomputed from
 * the register contents, as GDB's own i387_supply_fxsave / i387_tag do (gdb/i387-tdep.c).
 */
final class X87Tags {
    static final int VALID = 0, ZERO = 1, SPECIAL = 2, EMPTY = 3;

    private X87Tags() {
    }

    /** TOP, the physical register that is ST(0): FSW bits 13:11. */
    static int top(int fsw) {
        return (fsw >>> 11) & 7;
    }

    /** The full tag word for {@code fpu}'s abridged tag, FSW.TOP and register contents. */
    static int fullTagWord(KvmFpu fpu) {
        int abridged = fpu.ftwx();
        int top = top(fpu.fsw());
        byte[] raw = new byte[KvmFpu.ST_BYTES];
        int word = 0;
        for (int physical = 0; physical < 8; physical++) {
            int tag;
            if ((abridged & (1 << physical)) == 0) {
                tag = EMPTY;
            } else {
                // fpr[] is in stack order: physical register p is ST((p - TOP) mod 8).
                fpu.getBytes(KvmFpu.st((physical - top) & 7), raw, 0, KvmFpu.ST_BYTES);
                tag = classify(raw);
            }
            word |= tag << (2 * physical);
        }
        return word;
    }

    /** The abridged tag byte for a full tag word: every register not tagged empty is marked in use. */
    static int abridge(int fullTagWord) {
        int abridged = 0;
        for (int physical = 0; physical < 8; physical++) {
            if (((fullTagWord >>> (2 * physical)) & 3) != EMPTY) {
                abridged |= 1 << physical;
            }
        }
        return abridged;
    }

    /** The tag an in-use 80-bit value gets: zero, valid (normal) or special (NaN, infinity, denormal, unnormal). */
    static int classify(byte[] raw) {
        boolean integer = (raw[7] & 0x80) != 0;
        int exponent = ((raw[9] & 0x7F) << 8) | (raw[8] & 0xFF);
        boolean fractionZero = (raw[7] & 0x7F) == 0;
        for (int i = 0; i < 7 && fractionZero; i++) {
            fractionZero = raw[i] == 0;
        }
        if (exponent == 0x7FFF) {
            return SPECIAL;
        }
        if (exponent == 0) {
            return fractionZero && !integer ? ZERO : SPECIAL;
        }
        return integer ? VALID : SPECIAL;
    }
}

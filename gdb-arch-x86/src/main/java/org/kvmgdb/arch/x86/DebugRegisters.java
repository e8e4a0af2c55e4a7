package org.kvmgdb.arch.x86;

import java.util.List;
import org.kvmgdb.api.arch.HardwareSlot;

/**
 * DR6 and DR7 bit layouts (Intel SDM Vol. 3, 18.2 "Debug Registers"). Slot n of a debug control
 * is DRn; x86 has four.
 */
final class DebugRegisters {
    static final int SLOTS = 4;

    /** DR6.Bn (bits 0-3): breakpoint condition n was met. */
    static final long DR6_B0 = 1L;
    /** DR6.BS (bit 14): single step (TF) trap. */
    static final long DR6_BS = 1L << 14;
    /** DR6 bits that read as 1 (bits 4-11 and 16-31, "active low" on newer CPUs). */
    static final long DR6_FIXED_1 = 0xFFFF_0FF0L;

    /** DR7.GE (bit 9), set by convention (QEMU does) together with the reserved bit 10 that reads as 1. */
    static final long DR7_GE = 1L << 9;
    static final long DR7_FIXED_1 = 1L << 10;

    /** DR7.R/Wn encodings: 00 instruction execution, 01 data write, 11 data read or write (no read-only). */
    static final int RW_EXECUTE = 0b00, RW_WRITE = 0b01, RW_READ_WRITE = 0b11;

    private DebugRegisters() {
    }

    /** DR7.Gn (bit 2n+1): slot n enabled globally (survives task switches; all we need). */
    static long globalEnable(int slot) {
        return 1L << (2 * slot + 1);
    }

    /** DR7.Ln or DR7.Gn set for slot n. */
    static boolean enabled(long dr7, int slot) {
        return ((dr7 >>> (2 * slot)) & 0b11) != 0;
    }

    /** DR7.R/Wn, bits 16+4n .. 17+4n. */
    static int rw(long dr7, int slot) {
        return (int) (dr7 >>> (16 + 4 * slot)) & 0b11;
    }

    /** DR7.LENn, bits 18+4n .. 19+4n. */
    static int len(long dr7, int slot) {
        return (int) (dr7 >>> (18 + 4 * slot)) & 0b11;
    }

    /**
     * R/W for a slot kind. READ has no encoding of its own on x86: it is programmed as read-or-write
     * (11), so it also fires on writes, and whoever set it must check the value (gdb does for
     * {@code rwatch}: it reports a read watchpoint only when the value did not change).
     */
    static int rwBits(HardwareSlot.Kind kind) {
        switch (kind) {
            case EXECUTE:
                return RW_EXECUTE;
            case WRITE:
                return RW_WRITE;
            case READ:
            case ACCESS:
                return RW_READ_WRITE;
            default:
                throw new IllegalArgumentException(String.valueOf(kind));
        }
    }

    /** LEN encoding: 00 one byte, 01 two, 11 four, 10 eight (long mode only); -1 for other lengths. */
    static int lenBits(int length) {
        switch (length) {
            case 1:
                return 0b00;
            case 2:
                return 0b01;
            case 4:
                return 0b11;
            case 8:
                return 0b10;
            default:
                return -1;
        }
    }

    /** Whether one slot can be programmed: execute is length 1; data 1, 2, 4 or 8 bytes, aligned. */
    static boolean fits(HardwareSlot slot) {
        if (slot.kind() == HardwareSlot.Kind.EXECUTE) {
            return slot.length() == 1;
        }
        return lenBits(slot.length()) >= 0 && (slot.address() & (slot.length() - 1)) == 0;
    }

    /** DR7 for the slots, in order DR0..DR3. Execute slots are encoded with LEN 00 as the SDM requires. */
    static long dr7(List<HardwareSlot> slots) {
        if (slots.isEmpty()) {
            return 0;
        }
        long dr7 = DR7_FIXED_1 | DR7_GE;
        for (int n = 0; n < slots.size(); n++) {
            HardwareSlot s = slots.get(n);
            int len = s.kind() == HardwareSlot.Kind.EXECUTE ? 0 : lenBits(s.length());
            dr7 |= globalEnable(n)
                    | ((long) rwBits(s.kind()) << (16 + 4 * n))
                    | ((long) len << (18 + 4 * n));
        }
        return dr7;
    }
}

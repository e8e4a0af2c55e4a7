package org.kvmgdb.arch.x86.kvm;

import java.nio.ByteBuffer;

/**
 * {@code struct kvm_segment} (arch/x86/include/uapi/asm/kvm.h), 24 bytes: a segment register with
 * its hidden descriptor cache, unpacked.
 *
 * @param type the descriptor's 4-bit type (code: 0xB execute/read, accessed; data: 0x3 read/write, accessed)
 * @param db   the D/B bit (32-bit default size; must be 0 for a 64-bit code segment)
 * @param s    1 for code/data, 0 for system segments
 * @param l    64-bit code segment
 * @param g    limit in 4 KiB units
 */
public record KvmSegment(long base, int limit, int selector, int type, boolean present, int dpl,
                         boolean db, boolean s, boolean l, boolean g, boolean avl, boolean unusable) {
    public static final int SIZE = 24;

    // __u64 base;          at 0
    // __u32 limit;         at 8
    // __u16 selector;      at 12
    // __u8  type;          at 14
    // __u8  present, dpl, db, s, l, g, avl;   at 15..21
    // __u8  unusable;      at 22
    // __u8  padding;       at 23
    private static final int BASE = 0, LIMIT = 8, SELECTOR = 12, TYPE = 14, PRESENT = 15, DPL = 16, DB = 17,
            S = 18, L = 19, G = 20, AVL = 21, UNUSABLE = 22;

    /** A flat 4 GiB 64-bit code segment: L=1, D=0 (D must be 0 when L is 1). */
    public static KvmSegment flatCode64(int selector) {
        return new KvmSegment(0, 0xFFFF_FFFF, selector, 0xB, true, 0, false, true, true, true, false, false);
    }

    /** A flat 4 GiB read/write data segment. */
    public static KvmSegment flatData(int selector) {
        return new KvmSegment(0, 0xFFFF_FFFF, selector, 0x3, true, 0, true, true, false, true, false, false);
    }

    public KvmSegment withSelector(int newSelector) {
        return new KvmSegment(base, limit, newSelector, type, present, dpl, db, s, l, g, avl, unusable);
    }

    public KvmSegment withBase(long newBase) {
        return new KvmSegment(newBase, limit, selector, type, present, dpl, db, s, l, g, avl, unusable);
    }

    static KvmSegment decode(ByteBuffer b, int at) {
        return new KvmSegment(b.getLong(at + BASE), b.getInt(at + LIMIT), b.getShort(at + SELECTOR) & 0xFFFF,
                b.get(at + TYPE) & 0xFF, b.get(at + PRESENT) != 0, b.get(at + DPL) & 0xFF, b.get(at + DB) != 0,
                b.get(at + S) != 0, b.get(at + L) != 0, b.get(at + G) != 0, b.get(at + AVL) != 0,
                b.get(at + UNUSABLE) != 0);
    }

    void encode(ByteBuffer b, int at) {
        b.putLong(at + BASE, base);
        b.putInt(at + LIMIT, limit);
        b.putShort(at + SELECTOR, (short) selector);
        b.put(at + TYPE, (byte) type);
        b.put(at + PRESENT, flag(present));
        b.put(at + DPL, (byte) dpl);
        b.put(at + DB, flag(db));
        b.put(at + S, flag(s));
        b.put(at + L, flag(l));
        b.put(at + G, flag(g));
        b.put(at + AVL, flag(avl));
        b.put(at + UNUSABLE, flag(unusable));
        b.put(at + UNUSABLE + 1, (byte) 0); // padding
    }

    private static byte flag(boolean v) {
        return (byte) (v ? 1 : 0);
    }
}

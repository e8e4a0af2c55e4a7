package org.kvmgdb.arch.x86;

import static org.kvmgdb.arch.x86.X86PageWalker.ADDRESS_MASK;
import static org.kvmgdb.arch.x86.X86PageWalker.ADDRESS_MASK_1G;
import static org.kvmgdb.arch.x86.X86PageWalker.ADDRESS_MASK_2M;
import static org.kvmgdb.arch.x86.X86PageWalker.CR0_PG;
import static org.kvmgdb.arch.x86.X86PageWalker.CR4_LA57;
import static org.kvmgdb.arch.x86.X86PageWalker.CR4_PAE;
import static org.kvmgdb.arch.x86.X86PageWalker.CR4_PSE;
import static org.kvmgdb.arch.x86.X86PageWalker.EFER_LMA;
import static org.kvmgdb.arch.x86.X86PageWalker.GIB_1;
import static org.kvmgdb.arch.x86.X86PageWalker.KIB_4;
import static org.kvmgdb.arch.x86.X86PageWalker.MIB_2;
import static org.kvmgdb.arch.x86.X86PageWalker.MIB_4;
import static org.kvmgdb.arch.x86.X86PageWalker.PAGE_SIZE;
import static org.kvmgdb.arch.x86.X86PageWalker.PRESENT;

import java.util.ArrayList;
import java.util.List;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.arch.x86.X86PageWalker.X86PagingState;

/**
 * The mappings of a virtual range, read from the page tables in one walk that skips every entry
 * that is not present (so a whole 48-bit half costs one pass over the tables, not one probe per
 * page), with the permissions the CPU would combine along the way (Intel SDM Vol. 3, 4.6
 * "Access Rights"): writable only if R/W is set at every level, user only if U/S is set at every
 * level, no-execute if XD is set at any level and EFER.NXE is on. For {@code monitor info mem}.
 *
 * <p>Neighbouring pages are merged into one {@link Mapping} when they follow each other in both
 * virtual and physical memory and share page size and permissions.
 */
public final class X86Mappings {
    /** Bit 1 of every paging-structure entry: writes allowed. */
    static final long WRITABLE = 1L << 1;
    /** Bit 2: user-mode accesses allowed. */
    static final long USER = 1L << 2;
    /** Bit 63 of a 64-bit entry: execute-disable (with EFER.NXE). */
    static final long EXECUTE_DISABLE = 1L << 63;
    static final long EFER_NXE = 1L << 11;

    private static final long FOUR_GIB = 1L << 32;

    /**
     * One run of pages.
     *
     * @param virtualAddress  first byte (the range is clipped to what was asked)
     * @param physicalAddress where {@code virtualAddress} lands; the run is physically contiguous
     * @param size            bytes in the run
     * @param pageSize        the size of each page of the run (4 KiB, 2 MiB, 4 MiB, 1 GiB; 4 GiB with paging off)
     */
    public record Mapping(long virtualAddress, long physicalAddress, long size, long pageSize,
                          boolean writable, boolean user, boolean executable) {
        /** One past the last byte; 0 when the run ends at the top of the address space. */
        public long virtualEnd() {
            return virtualAddress + size;
        }
    }

    /** The mappings found, and whether the walk stopped at {@code limit} before the end of the range. */
    public record Walk(List<Mapping> mappings, boolean truncated) {
        public Walk {
            mappings = List.copyOf(mappings);
        }
    }

    private X86Mappings() {
    }

    /**
     * The mappings of virtual {@code [start, end)}, in address order (unsigned).
     *
     * @param end   exclusive; 0 means "to the top of the address space"
     * @param limit the most runs to return; the walk stops there and says so
     */
    public static Walk walk(X86PagingState s, PhysicalMemory memory, long start, long end, int limit) {
        Collector out = new Collector(limit);
        long last = end - 1; // inclusive, so that end = 0 (2^64) works in unsigned arithmetic
        if (end != 0 && Long.compareUnsigned(start, end) >= 0) {
            return new Walk(List.of(), false);
        }
        try {
            if ((s.cr0() & CR0_PG) == 0) {
                if (Long.compareUnsigned(start, FOUR_GIB) < 0) {
                    long stop = Long.compareUnsigned(last, FOUR_GIB - 1) < 0 ? last : FOUR_GIB - 1;
                    out.leaf(start, start, stop - start + 1, 1L << 32, true, true, true);
                }
            } else if ((s.efer() & EFER_LMA) != 0) {
                longMode(s, memory, start, last, out);
            } else if (Long.compareUnsigned(start, FOUR_GIB) < 0) {
                long stop = Long.compareUnsigned(last, FOUR_GIB - 1) < 0 ? last : FOUR_GIB - 1;
                if ((s.cr4() & CR4_PAE) != 0) {
                    pae(s, memory, start, stop, out);
                } else {
                    legacy32(s, memory, start, stop, out);
                }
            }
        } catch (LimitReached stop) {
            return new Walk(out.runs, true);
        }
        return new Walk(out.runs, false);
    }

    // ---- long mode: 4 or 5 levels of 512 entries ----

    private static void longMode(X86PagingState s, PhysicalMemory memory, long start, long last, Collector out) {
        int bits = (s.cr4() & CR4_LA57) != 0 ? 57 : 48;
        boolean nxe = (s.efer() & EFER_NXE) != 0;
        long half = 1L << (bits - 1);
        // The lower canonical half [0, half) and the upper one [-half, 2^64): walk each part asked for,
        // in "linear" form (the address with the sign extension cut off), and sign-extend back.
        long lowLast = half - 1;
        if (Long.compareUnsigned(start, lowLast) <= 0) {
            long l = Long.compareUnsigned(last, lowLast) < 0 ? last : lowLast;
            table(memory, s.cr3() & ADDRESS_MASK, bits == 57 ? 5 : 4, 0, start, l, true, true, false, nxe, bits, out);
        }
        long highFirst = -half;
        if (Long.compareUnsigned(last, highFirst) >= 0) {
            long f = Long.compareUnsigned(start, highFirst) > 0 ? start : highFirst;
            long mask = (1L << bits) - 1;
            table(memory, s.cr3() & ADDRESS_MASK, bits == 57 ? 5 : 4, 0, f & mask, last & mask, true, true, false, nxe, bits, out);
        }
    }

    /**
     * One table at {@code level} (1 = page table) whose first entry maps linear {@code base};
     * visits the entries that overlap linear {@code [first, last]}.
     */
    private static void table(PhysicalMemory memory, long table, int level, long base, long first, long last,
                              boolean writable, boolean user, boolean noExecute, boolean nxe, int bits, Collector out) {
        int shift = 12 + 9 * (level - 1);
        long span = 1L << shift;
        int from = (int) ((first - base) >>> shift);
        int to = (int) ((last - base) >>> shift);
        for (int i = from; i <= to; i++) {
            long entry = readLong(memory, table + i * 8L);
            if ((entry & PRESENT) == 0) {
                continue;
            }
            long entryBase = base + i * span;
            boolean w = writable && (entry & WRITABLE) != 0;
            boolean u = user && (entry & USER) != 0;
            boolean nx = noExecute || (nxe && (entry & EXECUTE_DISABLE) != 0);
            long lo = Math.max(first, entryBase);
            long hi = Math.min(last, entryBase + span - 1);
            boolean large = (entry & PAGE_SIZE) != 0;
            if (level == 1 || (large && (level == 2 || level == 3))) {
                long frame = entry & (level == 3 ? ADDRESS_MASK_1G : level == 2 ? ADDRESS_MASK_2M : ADDRESS_MASK);
                out.leaf(signExtend(lo, bits), frame + (lo - entryBase), hi - lo + 1, span, w, u, !nx);
            } else if (!large) { // PS in a PML5E/PML4E is reserved: the CPU would fault, nothing is mapped
                table(memory, entry & ADDRESS_MASK, level - 1, entryBase, lo, hi, w, u, nx, nxe, bits, out);
            }
        }
    }

    private static long signExtend(long linear, int bits) {
        return (linear << (64 - bits)) >> (64 - bits);
    }

    // ---- PAE: a 4-entry PDPT, then 512-entry directories and tables ----

    private static void pae(X86PagingState s, PhysicalMemory memory, long first, long last, Collector out) {
        boolean nxe = (s.efer() & EFER_NXE) != 0;
        long pdpt = s.cr3() & 0xFFFF_FFE0L; // PAE CR3: bits 31:5 hold the 32-byte aligned PDPT
        for (int i = (int) (first >>> 30); i <= (int) (last >>> 30); i++) {
            long pdpte = readLong(memory, pdpt + i * 8L);
            if ((pdpte & PRESENT) == 0) {
                continue;
            }
            long base = (long) i << 30;
            // A PDPTE has no R/W, U/S or XD bits (they are reserved in PAE paging): the walk starts permissive.
            table(memory, pdpte & ADDRESS_MASK, 2, base, Math.max(first, base), Math.min(last, base + GIB_1 - 1),
                    true, true, false, nxe, 64, out);
        }
    }

    // ---- 32-bit paging: 1024-entry directory and tables of 4-byte entries ----

    private static void legacy32(X86PagingState s, PhysicalMemory memory, long first, long last, Collector out) {
        long pd = s.cr3() & 0xFFFF_F000L;
        boolean pse = (s.cr4() & CR4_PSE) != 0;
        for (int i = (int) (first >>> 22); i <= (int) (last >>> 22); i++) {
            long pde = readInt(memory, pd + i * 4L);
            if ((pde & PRESENT) == 0) {
                continue;
            }
            long base = (long) i << 22;
            long lo = Math.max(first, base);
            long hi = Math.min(last, base + MIB_4 - 1);
            boolean w = (pde & WRITABLE) != 0;
            boolean u = (pde & USER) != 0;
            if ((pde & PAGE_SIZE) != 0 && pse) {
                // 4 MiB page: bits 31:22 of the frame, and with PSE-36 bits 39:32 from PDE bits 20:13.
                long frame = (pde & 0xFFC0_0000L) | (((pde >>> 13) & 0xFF) << 32);
                out.leaf(lo, frame + (lo - base), hi - lo + 1, MIB_4, w, u, true);
                continue;
            }
            long pt = pde & 0xFFFF_F000L;
            for (int j = (int) ((lo - base) >>> 12); j <= (int) ((hi - base) >>> 12); j++) {
                long pte = readInt(memory, pt + j * 4L);
                if ((pte & PRESENT) == 0) {
                    continue;
                }
                long pageBase = base + ((long) j << 12);
                long plo = Math.max(lo, pageBase);
                long phi = Math.min(hi, pageBase + KIB_4 - 1);
                out.leaf(plo, (pte & 0xFFFF_F000L) + (plo - pageBase), phi - plo + 1, KIB_4,
                        w && (pte & WRITABLE) != 0, u && (pte & USER) != 0, true);
            }
        }
    }

    /** A table entry outside RAM reads as not present: the walk goes on with the next one. */
    private static long readLong(PhysicalMemory memory, long address) {
        return memory.contains(address, 8) ? memory.readLong(address) : 0;
    }

    private static long readInt(PhysicalMemory memory, long address) {
        if (!memory.contains(address, 4)) {
            return 0;
        }
        byte[] b = new byte[4];
        memory.read(address, b, 0, 4);
        return (b[0] & 0xFFL) | (b[1] & 0xFFL) << 8 | (b[2] & 0xFFL) << 16 | (b[3] & 0xFFL) << 24;
    }

    /** Thrown to end the walk once {@link Collector#limit} runs are out. */
    private static final class LimitReached extends RuntimeException {
        LimitReached() {
            super(null, null, false, false);
        }
    }

    /** Merges each leaf into the last run where it continues it. */
    private static final class Collector {
        final int limit;
        final List<Mapping> runs = new ArrayList<>();

        Collector(int limit) {
            this.limit = limit;
        }

        void leaf(long va, long pa, long size, long pageSize, boolean w, boolean u, boolean x) {
            if (!runs.isEmpty()) {
                Mapping last = runs.get(runs.size() - 1);
                if (last.virtualEnd() == va && last.physicalAddress() + last.size() == pa && last.pageSize() == pageSize
                        && last.writable() == w && last.user() == u && last.executable() == x) {
                    runs.set(runs.size() - 1, new Mapping(last.virtualAddress(), last.physicalAddress(), last.size() + size,
                            pageSize, w, u, x));
                    return;
                }
            }
            if (runs.size() == limit) {
                throw new LimitReached();
            }
            runs.add(new Mapping(va, pa, size, pageSize, w, u, x));
        }
    }
}

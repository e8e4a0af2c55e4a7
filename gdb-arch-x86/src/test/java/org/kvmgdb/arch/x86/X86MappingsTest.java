package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.BootState.BootParameters;
import org.kvmgdb.arch.x86.X86Mappings.Mapping;
import org.kvmgdb.arch.x86.X86Mappings.Walk;
import org.kvmgdb.arch.x86.X86PageWalker.X86PagingState;
import org.kvmgdb.api.hypervisor.testing.TestMemory;

/** {@code monitor info mem}'s walk over synthetic tables of every paging mode: runs, page sizes, permissions. */
class X86MappingsTest {
    private static final long P = 1, RW = 2, US = 4, PS = 0x80, XD = 1L << 63;
    private static final long KIB_4 = 1L << 12, MIB_2 = 1L << 21, MIB_4 = 1L << 22, GIB_1 = 1L << 30;
    private static final long CR0_PG = 0x8005_0033L;
    private static final long CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_LA57 = 1 << 12;
    private static final long LME_LMA = 0x500, NXE = 1 << 11;
    private static final long HALF = 0xFFFF_8000_0000_0000L;

    private final TestMemory ram = TestMemory.sparse(1L << 36);
    private final X86PageWalker walker = new X86PageWalker();

    private static Mapping m(long va, long pa, long size, long page, boolean w, boolean u, boolean x) {
        return new Mapping(va, pa, size, page, w, u, x);
    }

    private List<Mapping> walk(X86PagingState s, long start, long end) {
        Walk w = X86Mappings.walk(s, ram, start, end, 100);
        assertFalse(w.truncated());
        return w.mappings();
    }

    @Test
    void theBootIdentityMapIsOneRunOf2MibPagesClippedToTheRange() {
        new X86BootState().prepareMemory(ram, new BootParameters(0x100000, 1, 128L << 20, 64 * 1024));
        X86PagingState s = new X86PagingState(X86BootState.CR0, X86BootState.PML4_ADDRESS, X86BootState.CR4, X86BootState.EFER);
        assertEquals(List.of(m(0x100000, 0x100000, 0x100000, MIB_2, true, false, true)), walk(s, 0x100000, 0x200000));
        assertEquals(List.of(m(0, 0, 128L << 20, MIB_2, true, false, true)), walk(s, 0, 0), "the whole address space");
        assertEquals(List.of(), walk(s, 128L << 20, 1L << 30), "nothing past RAM");
    }

    /** PML4[256] -> PDPT: [0] -> PD with a user 2 MiB page, a PT with 4 KiB pages; [1] a 1 GiB page, read-only and NX. */
    private X86PagingState higherHalf(long efer) {
        ram.writeLong(0x10000 + 256 * 8, 0x11000 | RW | US | P);
        ram.writeLong(0x11000, 0x12000 | RW | US | P);
        ram.writeLong(0x11000 + 8, 0x4000_0000L | XD | PS | US | P);
        ram.writeLong(0x12000, 0x60_0000L | PS | RW | US | P);
        ram.writeLong(0x12000 + 8, 0x13000 | RW | P);                 // PD[1] -> PT, supervisor
        ram.writeLong(0x13000, 0x70_0000L | RW | US | P);             // PT[0], PT[1] physically contiguous
        ram.writeLong(0x13000 + 8, 0x70_1000L | RW | US | P);
        ram.writeLong(0x13000 + 3 * 8, 0x90_0000L | XD | US | P);     // PT[3]: read-only, XD
        return new X86PagingState(CR0_PG, 0x10000, CR4_PAE, efer);
    }

    @Test
    void fourLevelPagesOfEverySizeWithCombinedPermissions() {
        X86PagingState s = higherHalf(LME_LMA | NXE);
        assertEquals(List.of(
                m(HALF, 0x60_0000L, MIB_2, MIB_2, true, true, true),
                m(HALF + MIB_2, 0x70_0000L, 2 * KIB_4, KIB_4, true, false, true),
                m(HALF + MIB_2 + 3 * KIB_4, 0x90_0000L, KIB_4, KIB_4, false, false, false),
                m(HALF + GIB_1, 0x4000_0000L, GIB_1, GIB_1, false, true, false)),
                walk(s, HALF, HALF + 2 * GIB_1));
    }

    @Test
    void withoutEferNxeTheXdBitIsIgnored() {
        X86PagingState s = higherHalf(LME_LMA);
        assertTrue(walk(s, HALF, 0).stream().allMatch(Mapping::executable));
    }

    @Test
    void aRangeInsideOnePageIsClippedAndItsPhysicalStartFollows() {
        X86PagingState s = higherHalf(LME_LMA | NXE);
        assertEquals(List.of(m(HALF + GIB_1 + 0x1234, 0x4000_1234L, 0x10, GIB_1, false, true, false)),
                walk(s, HALF + GIB_1 + 0x1234, HALF + GIB_1 + 0x1244));
    }

    @Test
    void theNonCanonicalHoleAndTheLowerHalfAreWalkedInOneRange() {
        X86PagingState s = higherHalf(LME_LMA | NXE);
        ram.writeLong(0x10000, 0x14000 | RW | P);
        ram.writeLong(0x14000, 0x15000 | RW | P);
        ram.writeLong(0x15000, 0x0 | PS | RW | P);
        List<Mapping> all = walk(s, 0, 0);
        assertEquals(5, all.size());
        assertEquals(m(0, 0, MIB_2, MIB_2, true, false, true), all.get(0));
        assertEquals(HALF, all.get(1).virtualAddress(), "the upper half follows, sign-extended");
    }

    @Test
    void fiveLevelPagingReachesAddressesBeyond48Bits() {
        long va = 0x0080_1234_5678_9000L;
        long[] tables = {0x20000, 0x21000, 0x22000, 0x23000, 0x24000};
        for (int level = 5; level >= 1; level--) {
            long index = (va >>> (12 + 9 * (level - 1))) & 0x1FF;
            long next = level == 1 ? 0x9_8765_4000L : tables[5 - level + 1];
            ram.writeLong(tables[5 - level] + index * 8, next | RW | P);
        }
        X86PagingState s = new X86PagingState(CR0_PG, 0x20000, CR4_PAE | CR4_LA57, LME_LMA);
        assertEquals(List.of(m(va, 0x9_8765_4000L, KIB_4, KIB_4, true, false, true)), walk(s, va - MIB_2, va + MIB_2));
        assertEquals(List.of(), walk(new X86PagingState(CR0_PG, 0x20000, CR4_PAE, LME_LMA), va - MIB_2, va + MIB_2),
                "without LA57 the address is not canonical");
    }

    @Test
    void paeWith2MibAnd4KibPagesAndNx() {
        ram.writeLong(0x3020 + 3 * 8, 0x4000 | P);
        ram.writeLong(0x4000, 0x1_2340_0000L | PS | RW | P);
        ram.writeLong(0x4000 + 8, 0x5000 | RW | US | P);
        ram.writeLong(0x5000 + 2 * 8, 0xABC000L | XD | US | P);
        X86PagingState s = new X86PagingState(CR0_PG, 0x3020, CR4_PAE, NXE);
        long base = 3L << 30;
        assertEquals(List.of(m(base, 0x1_2340_0000L, MIB_2, MIB_2, true, false, true),
                        m(base + MIB_2 + 2 * KIB_4, 0xABC000L, KIB_4, KIB_4, false, true, false)),
                walk(s, 0, 0));
    }

    @Test
    void legacy32BitWith4MibAnd4KibPages() {
        ram.writeInt(0x1000 + 2 * 4, 0x00C0_0000 | (0x12 << 13) | (int) (PS | RW | P));   // 4 MiB, PSE-36 frame
        ram.writeInt(0x1000 + 3 * 4, 0x2000 | (int) (RW | US | P));
        ram.writeInt(0x2000 + 5 * 4, 0x0034_5000 | (int) (US | P));
        X86PagingState s = new X86PagingState(CR0_PG, 0x1000, CR4_PSE, 0);
        assertEquals(List.of(m(2L << 22, 0x12_00C0_0000L, MIB_4, MIB_4, true, false, true),
                        m((3L << 22) + 5 * KIB_4, 0x345000, KIB_4, KIB_4, false, true, true)),
                walk(s, 0, 0));
    }

    @Test
    void pagingOffIsTheIdentityOfTheFirst4Gib() {
        X86PagingState s = new X86PagingState(0x10, 0, 0, 0);
        assertEquals(List.of(m(0x1000, 0x1000, 0xFFFF_F000L, 1L << 32, true, true, true)), walk(s, 0x1000, 0));
    }

    @Test
    void aWideRangeOfScatteredPagesStopsAtTheLimitAndSaysSo() {
        for (int i = 0; i < 512; i += 2) {
            ram.writeLong(0x13000 + i * 8L, (0x100_0000L + i * KIB_4 * 3) | P); // not contiguous: one run each
        }
        ram.writeLong(0x10000, 0x11000 | P);
        ram.writeLong(0x11000, 0x12000 | P);
        ram.writeLong(0x12000, 0x13000 | P);
        Walk w = X86Mappings.walk(new X86PagingState(CR0_PG, 0x10000, CR4_PAE, LME_LMA), ram, 0, 0, 10);
        assertTrue(w.truncated());
        assertEquals(10, w.mappings().size());
    }

    @Test
    void everyMappedByteOfTheWalkTranslatesTheSameWayTheWalkerDoes() {
        X86PagingState s = higherHalf(LME_LMA | NXE);
        for (Mapping m : walk(s, HALF, 0)) {
            for (long off : new long[] {0, m.size() / 2, m.size() - 1}) {
                assertEquals(m.physicalAddress() + off,
                        walker.translate(s, ram, m.virtualAddress() + off).orElseThrow().physicalAddress());
            }
        }
    }
}

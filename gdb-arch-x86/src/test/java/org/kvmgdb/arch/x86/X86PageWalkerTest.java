package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.AddressTranslator.PagingState;
import org.kvmgdb.api.arch.AddressTranslator.Translation;
import org.kvmgdb.arch.x86.X86PageWalker.X86PagingState;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.arch.x86.fake.Recorded;
import org.kvmgdb.api.hypervisor.testing.TestMemory;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;

class X86PageWalkerTest {
    private static final long P = 1, RW = 2, PS = 0x80, NX = 1L << 63, PAT_LARGE = 1L << 12;
    private static final long KIB_4 = 1L << 12, MIB_2 = 1L << 21, MIB_4 = 1L << 22, GIB_1 = 1L << 30;
    private static final long CR0_PE_PG = 0x8000_0001L;
    private static final long CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_LA57 = 1 << 12;
    private static final long EFER_LME_LMA = 0x500;

    private final X86PageWalker walker = new X86PageWalker();
    private final TestMemory ram = TestMemory.sparse(1L << 40);

    private Optional<Translation> walk(X86PagingState s, long va) {
        return walker.translate(s, ram, va);
    }

    private static Optional<Translation> at(long pa, long pageSize) {
        return Optional.of(new Translation(pa, pageSize));
    }

    @Test
    void pagingOffIsIdentityWithin4Gib() {
        X86PagingState s = new X86PagingState(0x6000_0010L, 0, 0, 0);
        assertEquals(at(0x7C00, 1L << 32), walk(s, 0x7C00));
        assertEquals(at(0xFFFF_FFFFL, 1L << 32), walk(s, 0xFFFF_FFFFL));
        assertEquals(Optional.empty(), walk(s, 1L << 32));
    }

    @Test
    void legacy32BitPagingWith4KibPages() {
        X86PagingState s = new X86PagingState(CR0_PE_PG, 0x1000, 0, 0);
        ram.writeInt(0x1000 + 1 * 4, 0x2000 | (int) (P | RW));        // PDE[1] -> PT at 0x2000
        ram.writeInt(0x2000 + 5 * 4, 0x0034_5000 | (int) P);           // PTE[5] -> 0x345000
        assertEquals(at(0x345123, KIB_4), walk(s, (1L << 22) | (5 << 12) | 0x123));
        assertEquals(Optional.empty(), walk(s, (1L << 22) | (6 << 12)), "PTE not present");
        assertEquals(Optional.empty(), walk(s, 0), "PDE not present");
        assertEquals(Optional.empty(), walk(s, 1L << 32), "more than 32 bits");
    }

    @Test
    void legacy32BitPagingWith4MibPagesAndPse36() {
        X86PagingState pse = new X86PagingState(CR0_PE_PG, 0x1000, CR4_PSE, 0);
        ram.writeInt(0x1000 + 2 * 4, 0x0080_0000 | (int) (PS | P));                  // 4 MiB at 8 MiB
        ram.writeInt(0x1000 + 3 * 4, 0x00C0_0000 | (0x12 << 13) | (int) (PS | P));    // 4 MiB at 0x12_00C0_0000
        assertEquals(at(0x0081_2345, MIB_4), walk(pse, (2L << 22) | 0x12345));
        assertEquals(at(0x12_00C1_2345L, MIB_4), walk(pse, (3L << 22) | 0x12345));

        // Without CR4.PSE the PS bit means nothing: the PDE points at a page table.
        ram.writeInt(0x0080_0000 + 0x12 * 4, 0x0066_6000 | (int) P);
        X86PagingState noPse = new X86PagingState(CR0_PE_PG, 0x1000, 0, 0);
        assertEquals(at(0x666345, KIB_4), walk(noPse, (2L << 22) | 0x12345));
    }

    @Test
    void paeWith2MibAnd4KibPagesAbove4GibPhysical() {
        X86PagingState s = new X86PagingState(CR0_PE_PG, 0x3020, CR4_PAE, 0); // PDPT 32-byte aligned at 0x3020
        ram.writeLong(0x3020 + 2 * 8, 0x4000 | P);                                 // PDPTE[2] -> PD 0x4000
        ram.writeLong(0x4000 + 3 * 8, 0x1_2340_0000L | PAT_LARGE | PS | RW | P);   // 2 MiB page
        ram.writeLong(0x4000 + 4 * 8, 0x5000 | RW | P);                            // -> PT 0x5000
        ram.writeLong(0x5000 + 7 * 8, 0xABC000L | NX | P);
        long base = 2L << 30;
        assertEquals(at(0x1_2341_ABCDL, MIB_2), walk(s, base | (3L << 21) | 0x1ABCD));
        assertEquals(at(0xABC0FFL, KIB_4), walk(s, base | (4L << 21) | (7 << 12) | 0xFF));
        assertEquals(Optional.empty(), walk(s, (1L << 30) | 0x1000), "PDPTE not present");
        assertEquals(Optional.empty(), walk(s, base | (5L << 21)), "PDE not present");
        assertEquals(Optional.empty(), walk(s, 1L << 32));
    }

    /** A higher-half mapping with 1 GiB, 2 MiB and 4 KiB pages; CR3 carries PWT/PCD bits. */
    private X86PagingState fourLevel() {
        ram.writeLong(0x10000 + 256 * 8, 0x11000 | RW | P);                        // PML4[256] -> PDPT
        ram.writeLong(0x11000 + 1 * 8, 0x4000_0000L | PS | RW | P);                 // PDPT[1]: 1 GiB at 1 GiB
        ram.writeLong(0x11000 + 0 * 8, 0x12000 | RW | P);                           // PDPT[0] -> PD
        ram.writeLong(0x12000 + 1 * 8, 0x60_0000L | PAT_LARGE | PS | RW | P);       // PD[1]: 2 MiB at 6 MiB, PAT set
        ram.writeLong(0x12000 + 2 * 8, 0x13000 | RW | P);                           // PD[2] -> PT
        ram.writeLong(0x13000 + 3 * 8, 0x777_7000L | NX | (0x7FFL << 52) | P);      // PT[3]: XD and ignored bits set
        return new X86PagingState(0x8005_0033L, 0x10000 | 0x18, 0x620, EFER_LME_LMA);
    }

    @Test
    void fourLevelLongModeWithAllThreePageSizes() {
        X86PagingState s = fourLevel();
        long half = 0xFFFF_8000_0000_0000L;
        assertEquals(at(0x4012_3456L, GIB_1), walk(s, half + GIB_1 + 0x12_3456));
        assertEquals(at(0x60_0234L, MIB_2), walk(s, half + MIB_2 + 0x234), "bit 12 of a 2 MiB entry is PAT, not address");
        assertEquals(at(0x777_7ABCL, KIB_4), walk(s, half + 2 * MIB_2 + 3 * KIB_4 + 0xABC));
        assertEquals(Optional.empty(), walk(s, half + 2 * MIB_2 + 4 * KIB_4), "PTE not present");
        assertEquals(Optional.empty(), walk(s, 0x1000), "PML4E not present");
    }

    @Test
    void nonCanonicalAddressesAreRefused() {
        X86PagingState s = fourLevel();
        assertEquals(Optional.empty(), walk(s, 0x0000_8000_0000_0000L + GIB_1));
        assertEquals(Optional.empty(), walk(s, 0xFFFF_7FFF_FFFF_F000L));
        assertEquals(Optional.empty(), walk(s, 0x7FFF_8000_4000_0000L));
    }

    @Test
    void pageSizeBitInAPml4EntryIsReserved() {
        ram.writeLong(0x10000, 0x0 | PS | RW | P);
        X86PagingState s = new X86PagingState(0x8005_0033L, 0x10000, 0x620, EFER_LME_LMA);
        assertEquals(Optional.empty(), walk(s, 0x1234));
    }

    @Test
    void fiveLevelPagingWithLa57() {
        long va = 0x0080_1234_5678_9ABCL; // canonical with 57 bits, not with 48
        int i5 = (int) ((va >>> 48) & 0x1FF), i4 = (int) ((va >>> 39) & 0x1FF), i3 = (int) ((va >>> 30) & 0x1FF),
                i2 = (int) ((va >>> 21) & 0x1FF), i1 = (int) ((va >>> 12) & 0x1FF);
        ram.writeLong(0x20000 + i5 * 8L, 0x21000 | P);
        ram.writeLong(0x21000 + i4 * 8L, 0x22000 | P);
        ram.writeLong(0x22000 + i3 * 8L, 0x23000 | P);
        ram.writeLong(0x23000 + i2 * 8L, 0x24000 | P);
        ram.writeLong(0x24000 + i1 * 8L, 0x9_8765_4000L | P);
        X86PagingState la57 = new X86PagingState(0x8005_0033L, 0x20000, 0x620 | CR4_LA57, EFER_LME_LMA);
        assertEquals(at(0x9_8765_4ABCL, KIB_4), walk(la57, va));
        assertEquals(Optional.empty(), walk(la57, 0x0100_0000_0000_0000L), "not canonical with 57 bits");
        X86PagingState four = new X86PagingState(0x8005_0033L, 0x20000, 0x620, EFER_LME_LMA);
        assertEquals(Optional.empty(), walk(four, va), "not canonical without LA57");
    }

    @Test
    void tablesOutsideRamGiveNotMapped() {
        TestMemory small = TestMemory.sparse(1L << 20);
        X86PagingState s = new X86PagingState(0x8005_0033L, 0x4000_0000L, 0x620, EFER_LME_LMA);
        assertEquals(Optional.empty(), walker.translate(s, small, 0x1000));
    }

    @Test
    void captureReadsTheControlRegistersFromSregs() {
        FakeVcpu vcpu = new FakeVcpu().kernelState(KvmIoctls.KVM_GET_SREGS, Hex.bytes(Recorded.RESET_SREGS));
        PagingState s = walker.capture(vcpu);
        assertEquals(new X86PagingState(0x6000_0010L, 0, 0, 0), s);
        assertEquals(List.of("KVM_GET_SREGS"), vcpu.callNames());
        assertEquals(at(0xFFFF0, 1L << 32), walker.translate(s, ram, 0xFFFF0));
    }

    @Test
    void anotherArchitecturesStateIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> walker.translate(new PagingState() {
        }, ram, 0));
    }

    @Test
    void translationTellsHowFarThePageRuns() {
        X86PagingState s = fourLevel();
        Translation t = walk(s, 0xFFFF_8000_0000_0000L + MIB_2 + 0x1F_FFF0).orElseThrow();
        assertEquals(16, t.bytesToPageEnd());
    }
}

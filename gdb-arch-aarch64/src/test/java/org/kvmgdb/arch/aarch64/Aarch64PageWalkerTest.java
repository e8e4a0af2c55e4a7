package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.AddressTranslator.PagingState;
import org.kvmgdb.api.arch.AddressTranslator.Translation;
import org.kvmgdb.api.arch.contract.KernelLikeVcpu;
import org.kvmgdb.api.hypervisor.testing.TestMemory;
import org.kvmgdb.arch.aarch64.Aarch64PageWalker.Aarch64PagingState;

/** The stage-1 walk on synthetic tables written into a sparse guest-physical memory. */
class Aarch64PageWalkerTest {
    /** Descriptor bits: valid, table/page, and attributes a real kernel sets (AF, SH, AttrIndx, UXN/PXN). */
    private static final long TABLE = 0b11, PAGE = 0b11, BLOCK = 0b01;
    private static final long ATTRS = (1L << 10) | (3L << 8) | (4L << 2) | (3L << 53);
    private static final long KIB_4 = 1L << 12, KIB_16 = 1L << 14, KIB_64 = 1L << 16;
    private static final long MIB_2 = 1L << 21, MIB_32 = 1L << 25, MIB_512 = 1L << 29, GIB_1 = 1L << 30;

    private static final long M = 1;
    // TCR_EL1 granules: TG0 at 15:14 (4K 0b00, 64K 0b01, 16K 0b10), TG1 at 31:30 (16K 0b01, 4K 0b10, 64K 0b11).
    private static final long TG0_4K = 0L << 14, TG0_64K = 1L << 14, TG0_16K = 2L << 14;
    private static final long TG1_16K = 1L << 30, TG1_4K = 2L << 30, TG1_64K = 3L << 30;
    private static final long IPS_48 = 5L << 32, IPS_32 = 0L << 32;
    private static final long EPD0 = 1L << 7, EPD1 = 1L << 23, TBI0 = 1L << 37, TBI1 = 1L << 38;

    private static final long UPPER_48 = 0xFFFF_0000_0000_0000L;

    private final Aarch64PageWalker walker = new Aarch64PageWalker();
    private final TestMemory ram = TestMemory.sparse(1L << 40);

    private static long tsz(int t0sz, int t1sz) {
        return t0sz | ((long) t1sz << 16);
    }

    private Optional<Translation> walk(Aarch64PagingState s, long va) {
        return walker.translate(s, ram, va);
    }

    private static Optional<Translation> at(long pa, long pageSize) {
        return Optional.of(new Translation(pa, pageSize));
    }

    private void entry(long table, long va, int shift, int bits, long descriptor) {
        ram.writeLong(table + ((va >>> shift) & ((1L << bits) - 1)) * 8, descriptor);
    }

    @Test
    void mmuOffIsIdentity() {
        // TTBRs and TCR full of values a walk would use: with SCTLR_EL1.M clear none of them matter.
        Aarch64PagingState s = new Aarch64PagingState(0x30D0_0800L, tsz(16, 16) | TG1_4K | IPS_48, 0x1000, 0x2000);
        assertEquals(at(0x4008_0000L, 1L << 48), walk(s, 0x4008_0000L));
        assertEquals(at(0xFFFF_FFFF_FFFFL, 1L << 48), walk(s, 0xFFFF_FFFF_FFFFL));
        assertEquals(Optional.empty(), walk(s, 1L << 48), "beyond 48 physical bits");
        assertEquals(Optional.empty(), walk(s, UPPER_48 | 0x1000));
    }

    /** 4 KiB granule, 48-bit input through TTBR0: levels 0..3, blocks at level 1 (1 GiB) and level 2 (2 MiB). */
    @Test
    void fourKibGranuleWithPagesAndBlocksAtLevelsOneAndTwo() {
        long l0 = 0x10000, l1 = 0x11000, l2 = 0x12000, l3 = 0x13000;
        long vaPage = 0x0000_0012_3456_7ABCL, vaBlock2 = 0x0000_0012_3460_0123L, vaBlock1 = 0x0000_0013_4567_89ABL;
        entry(l0, vaPage, 39, 9, l1 | TABLE);
        entry(l1, vaPage, 30, 9, l2 | TABLE);
        entry(l2, vaPage, 21, 9, l3 | TABLE);
        entry(l3, vaPage, 12, 9, 0x8_7654_3000L | ATTRS | PAGE);
        entry(l2, vaBlock2, 21, 9, 0x8_0040_0000L | ATTRS | BLOCK);
        entry(l1, vaBlock1, 30, 9, 0x7_C000_0000L | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(16, 16) | TG0_4K | TG1_4K | IPS_48, l0 | (0xABL << 48) | 1, 0);

        assertEquals(at(0x8_7654_3ABCL, KIB_4), walk(s, vaPage), "ASID and CnP bits of TTBR0 are not address");
        assertEquals(at(0x8_0040_0123L, MIB_2), walk(s, vaBlock2));
        assertEquals(at(0x7_C567_89ABL, GIB_1), walk(s, vaBlock1));
        assertEquals(Optional.empty(), walk(s, vaPage + KIB_4), "invalid level-3 descriptor");
        assertEquals(Optional.empty(), walk(s, 0x0000_0100_0000_0000L), "invalid level-0 descriptor");
    }

    /** 4 KiB granule with a 39-bit input (T1SZ = 25) through TTBR1: the walk starts at level 1. */
    @Test
    void fourKibGranuleThroughTtbr1StartsAtLevelOneFor39Bits() {
        long l1 = 0x20000, l2 = 0x21000, l3 = 0x22000;
        long va = 0xFFFF_FFC0_1020_3456L;
        entry(l1, va, 30, 9, l2 | TABLE);
        entry(l2, va, 21, 9, l3 | TABLE);
        entry(l3, va, 12, 9, 0x4123_4000L | ATTRS | PAGE);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(25, 25) | TG0_4K | TG1_4K | IPS_48, 0, l1);

        assertEquals(at(0x4123_4456L, KIB_4), walk(s, va));
        assertEquals(Optional.empty(), walk(s, 0xFFFF_FF80_1020_3456L), "bit 38 clear: outside the 39-bit upper range");
        assertEquals(Optional.empty(), walk(s, 0x0000_0040_1020_3456L), "bit 38 set: outside the 39-bit lower range");
    }

    /** A level-0 block does not exist with the 4 KiB granule (without FEAT_LPA2): the walk faults. */
    @Test
    void blockDescriptorAtLevelZeroIsAFault() {
        ram.writeLong(0x10000, 0x0 | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(16, 16) | TG0_4K | TG1_4K | IPS_48, 0x10000, 0);
        assertEquals(Optional.empty(), walk(s, 0x1234));
    }

    /** Bit 1 clear at level 3 is reserved, not a page. */
    @Test
    void level3DescriptorWithoutThePageBitIsAFault() {
        long l1 = 0x20000, l2 = 0x21000, l3 = 0x22000;
        ram.writeLong(l1, l2 | TABLE);
        ram.writeLong(l2, l3 | TABLE);
        ram.writeLong(l3, 0x5000 | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(25, 25) | TG0_4K | TG1_4K | IPS_48, l1, 0);
        assertEquals(Optional.empty(), walk(s, 0x123));
    }

    /** 16 KiB granule, 48-bit input: a level-0 table of 2 entries, 32 MiB blocks at level 2 only. */
    @Test
    void sixteenKibGranuleWithPagesAndLevelTwoBlocks() {
        long l0 = 0x40000, l1 = 0x44000, l2 = 0x48000, l3 = 0x4C000;
        long va = 0x0000_8765_4321_0FEDL; // bit 47 set: index 1 of the 2-entry level-0 table
        long vaBlock = 0x0000_8765_4400_0123L;
        ram.writeLong(l0 + 8, l1 | TABLE);
        entry(l1, va, 36, 11, l2 | TABLE);
        entry(l2, va, 25, 11, l3 | TABLE);
        entry(l3, va, 14, 11, 0x3_1234_C000L | ATTRS | PAGE);
        entry(l2, vaBlock, 25, 11, 0x2_0600_0000L | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(16, 16) | TG0_16K | TG1_16K | IPS_48, l0, 0);

        assertEquals(at(0x3_1234_C000L | (va & (KIB_16 - 1)), KIB_16), walk(s, va));
        assertEquals(at(0x2_0600_0123L, MIB_32), walk(s, vaBlock));
        assertEquals(Optional.empty(), walk(s, va & ~(1L << 47)), "level-0 entry 0 is invalid");
    }

    @Test
    void sixteenKibGranuleHasNoLevelOneBlocks() {
        long l0 = 0x40000, l1 = 0x44000;
        ram.writeLong(l0, l1 | TABLE);
        ram.writeLong(l1, 0x0 | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(16, 16) | TG0_16K | TG1_16K | IPS_48, l0, 0);
        assertEquals(Optional.empty(), walk(s, 0x1000));
    }

    /** 16 KiB granule through TTBR1 (TG1 = 0b01, unlike TG0's 0b10), 47-bit input: starts at level 1. */
    @Test
    void sixteenKibGranuleThroughTtbr1() {
        long l1 = 0x50000, l2 = 0x54000;
        long va = 0xFFFF_8123_4600_0042L;
        entry(l1, va, 36, 11, l2 | TABLE);
        entry(l2, va, 25, 11, 0x1_2000_0000L | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(17, 17) | TG0_4K | TG1_16K | IPS_48, 0, l1);
        assertEquals(at(0x1_2000_0000L | (va & (MIB_32 - 1)), MIB_32), walk(s, va));
    }

    /** 64 KiB granule, 48-bit input: starts at level 1 (64 entries), 512 MiB blocks at level 2. */
    @Test
    void sixtyFourKibGranuleWithPagesAndLevelTwoBlocks() {
        long l1 = 0x100000, l2 = 0x110000, l3 = 0x120000;
        long va = 0x0000_F123_4567_89ABL, vaBlock = 0x0000_F123_6000_0777L;
        entry(l1, va, 42, 6, l2 | TABLE);
        entry(l2, va, 29, 13, l3 | TABLE);
        entry(l3, va, 16, 13, 0xA_BCDE_0000L | ATTRS | PAGE);
        entry(l2, vaBlock, 29, 13, 0x9_E000_0000L | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(16, 16) | TG0_64K | TG1_64K | IPS_48, l1, 0);

        assertEquals(at(0xA_BCDE_89ABL, KIB_64), walk(s, va));
        assertEquals(at(0x9_E000_0777L, MIB_512), walk(s, vaBlock));
        Translation t = walk(s, va).orElseThrow();
        assertEquals(KIB_64 - 0x89AB, t.bytesToPageEnd());
    }

    @Test
    void sixtyFourKibGranuleHasNoLevelOneBlocks() {
        long l1 = 0x100000;
        ram.writeLong(l1, 0x0 | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(16, 16) | TG0_64K | TG1_64K | IPS_48, l1, 0);
        assertEquals(Optional.empty(), walk(s, 0x1000));
    }

    /** 64 KiB granule through TTBR1 with a 42-bit input: the walk starts at level 2. */
    @Test
    void sixtyFourKibGranuleThroughTtbr1StartsAtLevelTwoFor42Bits() {
        long l2 = 0x130000, l3 = 0x140000;
        long va = 0xFFFF_FC00_2345_6789L;
        entry(l2, va, 29, 13, l3 | TABLE);
        entry(l3, va, 16, 13, 0x4567_0000L | ATTRS | PAGE);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(22, 22) | TG0_4K | TG1_64K | IPS_48, 0, l2);
        assertEquals(at(0x4567_6789L, KIB_64), walk(s, va));
    }

    /** Both halves at once with different granules, as a kernel with 4 KiB user and 64 KiB kernel pages could have. */
    @Test
    void ttbr0AndTtbr1AreChosenByTheTopBits() {
        long low = 0x200000, high = 0x210000;
        // TTBR0: 4 KiB, 39 bits, 1 GiB block at index 1; TTBR1: 64 KiB, 42 bits, 512 MiB block at index 2.
        ram.writeLong(low + 8, 0x8000_0000L | ATTRS | BLOCK);
        ram.writeLong(high + 2 * 8, 0xC000_0000L | ATTRS | BLOCK);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(25, 22) | TG0_4K | TG1_64K | IPS_48, low, high);
        assertEquals(at(0x8000_1234L, GIB_1), walk(s, GIB_1 + 0x1234));
        assertEquals(at(0xC000_1234L, MIB_512), walk(s, 0xFFFF_FC00_4000_1234L));
        assertEquals(Optional.empty(), walk(s, 0x8000_0000_4000_1234L), "bit 63 set, the rest not: neither range");
        assertEquals(Optional.empty(), walk(s, 0x0000_0080_4000_1234L), "above TTBR0's 39 bits");
    }

    @Test
    void topByteIsIgnoredOnlyWithTbi() {
        long low = 0x200000, high = 0x210000;
        ram.writeLong(low + 8, 0x8000_0000L | ATTRS | BLOCK);
        ram.writeLong(high + 511 * 8, 0xC000_0000L | ATTRS | BLOCK);
        long tcr = tsz(25, 25) | TG0_4K | TG1_4K | IPS_48;
        long tagged = 0x5A00_0000_4000_1234L, taggedHigh = 0x5AFF_FFFF_C000_0010L;

        Aarch64PagingState plain = new Aarch64PagingState(M, tcr, low, high);
        assertEquals(Optional.empty(), walk(plain, tagged));
        assertEquals(Optional.empty(), walk(plain, taggedHigh));

        Aarch64PagingState tbi0 = new Aarch64PagingState(M, tcr | TBI0, low, high);
        assertEquals(at(0x8000_1234L, GIB_1), walk(tbi0, tagged));
        assertEquals(Optional.empty(), walk(tbi0, taggedHigh), "bit 55 set: TBI1 decides, and it is clear");

        Aarch64PagingState tbiBoth = new Aarch64PagingState(M, tcr | TBI0 | TBI1, low, high);
        assertEquals(at(0xC000_0010L, GIB_1), walk(tbiBoth, taggedHigh));
    }

    @Test
    void epdDisablesAWalk() {
        long low = 0x200000, high = 0x210000;
        ram.writeLong(low, 0x8000_0000L | ATTRS | BLOCK);
        ram.writeLong(high + 511 * 8, 0xC000_0000L | ATTRS | BLOCK);
        long tcr = tsz(25, 25) | TG0_4K | TG1_4K | IPS_48;
        assertEquals(at(0x8000_0010L, GIB_1), walk(new Aarch64PagingState(M, tcr | EPD1, low, high), 0x10));
        assertEquals(Optional.empty(), walk(new Aarch64PagingState(M, tcr | EPD1, low, high), 0xFFFF_FFFF_C000_0010L));
        assertEquals(Optional.empty(), walk(new Aarch64PagingState(M, tcr | EPD0, low, high), 0x10));
        assertEquals(at(0xC000_0010L, GIB_1), walk(new Aarch64PagingState(M, tcr | EPD0, low, high), 0xFFFF_FFFF_C000_0010L));
    }

    @Test
    void reservedGranuleEncodingsGiveNotMapped() {
        ram.writeLong(0x200000, 0x8000_0000L | ATTRS | BLOCK);
        long tcr = tsz(25, 25) | IPS_48;
        assertEquals(Optional.empty(), walk(new Aarch64PagingState(M, tcr | (3L << 14) | TG1_4K, 0x200000, 0x200000), 0x10), "TG0 0b11");
        assertEquals(Optional.empty(), walk(new Aarch64PagingState(M, tcr, 0x200000, 0x200000), 0xFFFF_FFFF_C000_0010L), "TG1 0b00");
    }

    @Test
    void outputAboveTheIpsSizeIsAFault() {
        ram.writeLong(0x200000, 0x1_0000_0000L | ATTRS | BLOCK);
        ram.writeLong(0x200008, 0xC000_0000L | ATTRS | BLOCK);
        long tcr = tsz(25, 25) | TG0_4K | TG1_4K;
        assertEquals(Optional.empty(), walk(new Aarch64PagingState(M, tcr | IPS_32, 0x200000, 0), 0x10), "beyond 32 bits");
        assertEquals(at(0xC000_0010L, GIB_1), walk(new Aarch64PagingState(M, tcr | IPS_32, 0x200000, 0), GIB_1 + 0x10));
        assertEquals(at(0x1_0000_0010L, GIB_1), walk(new Aarch64PagingState(M, tcr | IPS_48, 0x200000, 0), 0x10));
    }

    @Test
    void tablesOutsideRamGiveNotMapped() {
        TestMemory small = TestMemory.sparse(1L << 20);
        Aarch64PagingState s = new Aarch64PagingState(M, tsz(16, 16) | TG0_4K | TG1_4K | IPS_48, 0x4000_0000L, 0);
        assertEquals(Optional.empty(), walker.translate(s, small, 0x1000));
    }

    @Test
    void inputSizesAbove48BitsAreNotSupported() {
        ram.writeLong(0x100000, 0x110000 | TABLE);
        Aarch64PagingState lva = new Aarch64PagingState(M, tsz(12, 12) | TG0_64K | TG1_64K | IPS_48, 0x100000, 0);
        assertEquals(Optional.empty(), walk(lva, 0x1000), "52-bit VA (FEAT_LVA) is not walked");
    }

    @Test
    void captureReadsSctlrTcrAndTtbrsThroughOneReg() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        long tcr = tsz(25, 25) | TG0_4K | TG1_4K | IPS_48;
        vcpu.presetOneReg(Aarch64PageWalker.SCTLR_EL1, 0x30D0_0801L);
        vcpu.presetOneReg(Aarch64PageWalker.TCR_EL1, tcr);
        vcpu.presetOneReg(Aarch64PageWalker.TTBR0_EL1, 0x200000);
        vcpu.presetOneReg(Aarch64PageWalker.TTBR1_EL1, (0x12L << 48) | 0x210000);
        PagingState s = walker.capture(vcpu);
        assertEquals(new Aarch64PagingState(0x30D0_0801L, tcr, 0x200000, (0x12L << 48) | 0x210000), s);
        assertEquals(List.of(0x603000000013c080L, 0x603000000013c102L, 0x603000000013c100L, 0x603000000013c101L),
                vcpu.calls().stream().map(KernelLikeVcpu.Call::requestOrId).collect(Collectors.toList()));

        ram.writeLong(0x210000 + 511 * 8, 0xC000_0000L | ATTRS | BLOCK);
        assertEquals(at(0xC000_0042L, GIB_1), walker.translate(s, ram, 0xFFFF_FFFF_C000_0042L), "a kernel address through TTBR1");
    }

    @Test
    void theProviderOffersTheWalker() {
        assertEquals(Aarch64PageWalker.class,
                new Aarch64ArchitectureProvider().addressTranslator().orElseThrow().getClass());
    }

    @Test
    void anotherArchitecturesStateIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> walker.translate(new PagingState() {
        }, ram, 0));
    }
}

package org.kvmgdb.arch.aarch64;

import java.nio.ByteBuffer;
import java.util.Optional;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * EL1&0 stage-1 translation by walking the guest's tables in software (Arm ARM D8, "The AArch64
 * Virtual Memory System Architecture", VMSAv8-64 descriptors; the walk follows the pseudocode of
 * {@code AArch64.TranslationTableWalk}). The result is a guest-physical address (KVM's stage 2 is
 * the host's business).
 *
 * <ul>
 *   <li>SCTLR_EL1.M = 0: the MMU is off and a virtual address is the physical one (up to 48 bits).
 *   <li>Otherwise bit 55 (bit 63 without top-byte-ignore) chooses TTBR0_EL1 or TTBR1_EL1; the
 *       bits from there down to the input size (64 - TnSZ) must all equal it, else not mapped. With
 *       TCR_EL1.TBIn the top byte is ignored, as for the guest's own data accesses.
 *   <li>Granule 4 KiB, 16 KiB or 64 KiB from TG0/TG1 (the two fields encode them differently);
 *       the walk starts at the level the input size needs.
 *   <li>Blocks where VMSAv8-64 without FEAT_LPA2 has them: 4 KiB granule at level 1 (1 GiB) and
 *       level 2 (2 MiB), 16 KiB at level 2 (32 MiB), 64 KiB at level 2 (512 MiB). A block descriptor
 *       elsewhere, an invalid descriptor, a table outside RAM, an output address above TCR_EL1.IPS
 *       or a walk disabled by EPDn give "not mapped".
 * </ul>
 *
 * <p>Only validity is checked: the debugger reads and writes whatever the access permissions say.
 * Not handled: 52-bit addresses (FEAT_LVA TnSZ below 16, FEAT_LPA/LPA2 output bits, TCR_EL1.DS),
 * which give "not mapped" or use 48 output bits.
 */
public final class Aarch64PageWalker implements AddressTranslator {
    /** The system registers that define the EL1&0 address space, from KVM_GET_ONE_REG. */
    public record Aarch64PagingState(long sctlr, long tcr, long ttbr0, long ttbr1) implements PagingState {
    }

    // The ONE_REG ids of the registers that define the address space (KvmSysRegs: ARM64_SYS_REG).
    static final long SCTLR_EL1 = KvmSysRegs.id(KvmSysRegs.SCTLR_EL1);
    static final long TTBR0_EL1 = KvmSysRegs.id(KvmSysRegs.TTBR0_EL1);
    static final long TTBR1_EL1 = KvmSysRegs.id(KvmSysRegs.TTBR1_EL1);
    static final long TCR_EL1 = KvmSysRegs.id(KvmSysRegs.TCR_EL1);

    static final long SCTLR_M = 1L;

    // TCR_EL1 fields (Arm ARM D19.2 "TCR_EL1").
    static final int T0SZ_SHIFT = 0, T1SZ_SHIFT = 16, TSZ_MASK = 0x3F;
    static final long EPD0 = 1L << 7, EPD1 = 1L << 23;
    static final int TG0_SHIFT = 14, TG1_SHIFT = 30;
    static final int IPS_SHIFT = 32;
    static final long TBI0 = 1L << 37, TBI1 = 1L << 38;

    static final long VALID = 1L;
    /** Bit 1 of a descriptor: table (levels 0-2) or page (level 3); clear means block, or reserved at level 3. */
    static final long TABLE_OR_PAGE = 1L << 1;
    /** Bits 47:0 of an address; a descriptor's output address is the part of bits 47:12..47:30 the level uses. */
    static final long ADDRESS_48 = (1L << 48) - 1;
    /** TTBRn_EL1: BADDR in bits 47:1 (bit 0 is CnP, 63:48 ASID). */
    static final long TTBR_BADDR = ADDRESS_48 & ~1L;

    private static final int MAX_INPUT_BITS = 48;

    @Override
    public PagingState capture(VcpuHandle vcpu) {
        return new Aarch64PagingState(read(vcpu, SCTLR_EL1), read(vcpu, TCR_EL1), read(vcpu, TTBR0_EL1), read(vcpu, TTBR1_EL1));
    }

    private static long read(VcpuHandle vcpu, long id) {
        ByteBuffer value = VcpuHandle.buffer(8);
        vcpu.getOneReg(id, value);
        return value.getLong(0);
    }

    @Override
    public Optional<Translation> translate(PagingState state, PhysicalMemory memory, long virtualAddress) {
        if (!(state instanceof Aarch64PagingState)) {
            throw new IllegalArgumentException("not an AArch64 paging state: " + state);
        }
        Aarch64PagingState s = (Aarch64PagingState) state;
        if ((s.sctlr() & SCTLR_M) == 0) {
            // MMU off: flat, one "page" of the 48-bit physical space so a read may run on.
            return (virtualAddress >>> MAX_INPUT_BITS) == 0
                    ? Optional.of(new Translation(virtualAddress, 1L << MAX_INPUT_BITS))
                    : Optional.empty();
        }
        try {
            return walk(s, memory, virtualAddress);
        } catch (IndexOutOfBoundsException tableOutsideRam) {
            return Optional.empty();
        }
    }

    private static Optional<Translation> walk(Aarch64PagingState s, PhysicalMemory memory, long va) {
        long tcr = s.tcr();
        // AddrTop(): bit 55 picks which TBI applies; with it the top byte is not part of the address.
        boolean upperByBit55 = (va & (1L << 55)) != 0;
        int top = (tcr & (upperByBit55 ? TBI1 : TBI0)) != 0 ? 55 : 63;
        boolean upper = ((va >>> top) & 1) != 0;

        int tsz = (int) (tcr >>> (upper ? T1SZ_SHIFT : T0SZ_SHIFT)) & TSZ_MASK;
        int inputBits = 64 - tsz;
        if (inputBits > MAX_INPUT_BITS || (tcr & (upper ? EPD1 : EPD0)) != 0) {
            return Optional.empty();
        }
        // Bits top..inputBits must all be copies of bit 'top' (zeros for TTBR0, ones for TTBR1).
        long rangeBits = va << (63 - top) >> (63 - top + inputBits);
        if (rangeBits != (upper ? -1L : 0L)) {
            return Optional.empty();
        }
        int pageShift = upper ? granuleShiftTg1((int) (tcr >>> TG1_SHIFT) & 3) : granuleShiftTg0((int) (tcr >>> TG0_SHIFT) & 3);
        if (pageShift == 0) {
            return Optional.empty(); // reserved TGn encoding
        }
        long outputLimit = 1L << outputBits((int) (tcr >>> IPS_SHIFT) & 7);

        int bitsPerLevel = pageShift - 3; // a table is one granule of 8-byte descriptors
        int levels = (inputBits - pageShift + bitsPerLevel - 1) / bitsPerLevel;
        if (levels < 1) {
            return Optional.empty(); // an input no larger than one page: TnSZ beyond any CPU's maximum
        }
        int level = 4 - levels;
        long table = (upper ? s.ttbr1() : s.ttbr0()) & TTBR_BADDR;
        int indexBits = inputBits - (pageShift + (3 - level) * bitsPerLevel); // the first table may be smaller
        for (; level <= 3; level++) {
            int shift = pageShift + (3 - level) * bitsPerLevel;
            long index = (va >>> shift) & ((1L << indexBits) - 1);
            long descriptor = memory.readLong(table + index * 8);
            indexBits = bitsPerLevel;
            if ((descriptor & VALID) == 0) {
                return Optional.empty();
            }
            long outputMask = ADDRESS_48 & -(1L << shift);
            if (level == 3) {
                if ((descriptor & TABLE_OR_PAGE) == 0) {
                    return Optional.empty(); // reserved at level 3
                }
                return leaf(descriptor & outputMask, va, shift, outputLimit);
            }
            if ((descriptor & TABLE_OR_PAGE) == 0) {
                return blockAllowed(pageShift, level) ? leaf(descriptor & outputMask, va, shift, outputLimit) : Optional.empty();
            }
            table = descriptor & ADDRESS_48 & -(1L << pageShift);
            if (table >= outputLimit) {
                return Optional.empty(); // address size fault
            }
        }
        throw new AssertionError("unreachable");
    }

    /** Where a block descriptor is allowed without FEAT_LPA2: level 2 always, level 1 with the 4 KiB granule. */
    private static boolean blockAllowed(int pageShift, int level) {
        return level == 2 || (level == 1 && pageShift == 12);
    }

    private static Optional<Translation> leaf(long output, long va, int shift, long outputLimit) {
        if (output >= outputLimit) {
            return Optional.empty(); // address size fault: beyond TCR_EL1.IPS
        }
        long size = 1L << shift;
        return Optional.of(new Translation(output | (va & (size - 1)), size));
    }

    /** TCR_EL1.TG0: 0b00 4 KiB, 0b01 64 KiB, 0b10 16 KiB; 0 for the reserved 0b11. */
    static int granuleShiftTg0(int tg0) {
        switch (tg0) {
            case 0: return 12;
            case 1: return 16;
            case 2: return 14;
            default: return 0;
        }
    }

    /** TCR_EL1.TG1: 0b01 16 KiB, 0b10 4 KiB, 0b11 64 KiB; 0 for the reserved 0b00. */
    static int granuleShiftTg1(int tg1) {
        switch (tg1) {
            case 1: return 14;
            case 2: return 12;
            case 3: return 16;
            default: return 0;
        }
    }

    /** TCR_EL1.IPS: the intermediate physical address size; 52 bits (0b110) is capped at 48 here. */
    static int outputBits(int ips) {
        switch (ips) {
            case 0: return 32;
            case 1: return 36;
            case 2: return 40;
            case 3: return 42;
            case 4: return 44;
            default: return 48;
        }
    }
}

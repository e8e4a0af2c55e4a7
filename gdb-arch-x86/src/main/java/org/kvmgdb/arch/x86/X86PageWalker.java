package org.kvmgdb.arch.x86;

import java.util.Optional;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

/**
 * Linear to physical translation by walking the guest's page tables in software (Intel SDM Vol. 3,
 * chapter 4 "Paging"): paging off (identity), 32-bit paging (4 KiB, and 4 MiB pages with CR4.PSE),
 * PAE (4 KiB, 2 MiB), 4-level IA-32e paging (4 KiB, 2 MiB, 1 GiB) and 5-level with CR4.LA57.
 *
 * <p>Only the present bit is checked at each level: the debugger reads and writes regardless of
 * the guest's R/W, U/S and NX permissions. A non-canonical address, an entry with PS set where the
 * architecture reserves it, or a table outside RAM gives "not mapped". In long mode the address is
 * used as given (segment bases other than FS/GS are 0 there); in the legacy modes it must fit in 32 bits.
 */
public final class X86PageWalker implements AddressTranslator {
    /** The control registers that define the address space, from KVM_GET_SREGS. */
    public record X86PagingState(long cr0, long cr3, long cr4, long efer) implements PagingState {
    }

    static final long CR0_PG = 1L << 31;
    static final long CR4_PSE = 1L << 4;
    static final long CR4_PAE = 1L << 5;
    static final long CR4_LA57 = 1L << 12;
    static final long EFER_LMA = 1L << 10;

    static final long PRESENT = 1L;
    /** Bit 7: a leaf mapping a large page (in a PDPTE or PDE); reserved in a PML4E/PML5E. */
    static final long PAGE_SIZE = 1L << 7;
    /** Bits 51:12 of a 64-bit entry: the next table or the 4 KiB frame (bit 63 is XD, 62:52 are ignored or keys). */
    static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
    /** Bits 51:21 (2 MiB) and 51:30 (1 GiB): large-page frames; bit 12 in such an entry is PAT, not address. */
    static final long ADDRESS_MASK_2M = 0x000F_FFFF_FFE0_0000L;
    static final long ADDRESS_MASK_1G = 0x000F_FFFF_C000_0000L;

    static final long KIB_4 = 1L << 12, MIB_2 = 1L << 21, MIB_4 = 1L << 22, GIB_1 = 1L << 30;
    private static final long FOUR_GIB = 1L << 32;

    @Override
    public PagingState capture(VcpuHandle vcpu) {
        KvmSregs s = KvmSregs.read(vcpu);
        return new X86PagingState(s.cr0(), s.cr3(), s.cr4(), s.efer());
    }

    @Override
    public Optional<Translation> translate(PagingState state, PhysicalMemory memory, long virtualAddress) {
        if (!(state instanceof X86PagingState)) {
            throw new IllegalArgumentException("not an x86 paging state: " + state);
        }
        X86PagingState s = (X86PagingState) state;
        try {
            if ((s.cr0() & CR0_PG) == 0) {
                // No paging: linear is physical; one 4 GiB "page" so a read may run on to the end.
                return fits32(virtualAddress) ? Optional.of(new Translation(virtualAddress, FOUR_GIB)) : Optional.empty();
            }
            if ((s.efer() & EFER_LMA) != 0) {
                return longMode(s, memory, virtualAddress, (s.cr4() & CR4_LA57) != 0 ? 5 : 4);
            }
            if (!fits32(virtualAddress)) {
                return Optional.empty();
            }
            return (s.cr4() & CR4_PAE) != 0 ? pae(s, memory, virtualAddress) : legacy32(s, memory, virtualAddress);
        } catch (IndexOutOfBoundsException tableOutsideRam) {
            return Optional.empty();
        }
    }

    /** Whether {@code address} is canonical for {@code bits} linear-address bits: bits 63..bits-1 all equal. */
    static boolean canonical(long address, int bits) {
        return (address << (64 - bits)) >> (64 - bits) == address;
    }

    private static boolean fits32(long address) {
        return (address & ~0xFFFF_FFFFL) == 0;
    }

    private static Optional<Translation> longMode(X86PagingState s, PhysicalMemory memory, long va, int levels) {
        if (!canonical(va, levels == 5 ? 57 : 48)) {
            return Optional.empty();
        }
        long table = s.cr3() & ADDRESS_MASK; // CR3 bits 11:0 are PCID or PWT/PCD
        for (int level = levels; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long entry = memory.readLong(table + ((va >>> shift) & 0x1FF) * 8);
            if ((entry & PRESENT) == 0) {
                return Optional.empty();
            }
            boolean large = (entry & PAGE_SIZE) != 0;
            if (level == 3 && large) {
                return page(entry & ADDRESS_MASK_1G, va, GIB_1);
            }
            if (level == 2 && large) {
                return page(entry & ADDRESS_MASK_2M, va, MIB_2);
            }
            if (level == 1) {
                return page(entry & ADDRESS_MASK, va, KIB_4);
            }
            if (large) {
                return Optional.empty(); // PS is reserved in a PML5E/PML4E: the CPU would fault
            }
            table = entry & ADDRESS_MASK;
        }
        throw new AssertionError("unreachable");
    }

    private static Optional<Translation> pae(X86PagingState s, PhysicalMemory memory, long va) {
        long pdpt = s.cr3() & 0xFFFF_FFE0L; // PAE CR3: bits 31:5 hold the 32-byte aligned PDPT
        long pdpte = memory.readLong(pdpt + ((va >>> 30) & 0x3) * 8);
        if ((pdpte & PRESENT) == 0) {
            return Optional.empty();
        }
        long pde = memory.readLong((pdpte & ADDRESS_MASK) + ((va >>> 21) & 0x1FF) * 8);
        if ((pde & PRESENT) == 0) {
            return Optional.empty();
        }
        if ((pde & PAGE_SIZE) != 0) {
            return page(pde & ADDRESS_MASK_2M, va, MIB_2);
        }
        long pte = memory.readLong((pde & ADDRESS_MASK) + ((va >>> 12) & 0x1FF) * 8);
        if ((pte & PRESENT) == 0) {
            return Optional.empty();
        }
        return page(pte & ADDRESS_MASK, va, KIB_4);
    }

    private static Optional<Translation> legacy32(X86PagingState s, PhysicalMemory memory, long va) {
        long pd = s.cr3() & 0xFFFF_F000L;
        long pde = readInt(memory, pd + ((va >>> 22) & 0x3FF) * 4);
        if ((pde & PRESENT) == 0) {
            return Optional.empty();
        }
        if ((pde & PAGE_SIZE) != 0 && (s.cr4() & CR4_PSE) != 0) {
            // 4 MiB page: bits 31:22 of the frame, and with PSE-36 bits 39:32 from PDE bits 20:13.
            long frame = (pde & 0xFFC0_0000L) | (((pde >>> 13) & 0xFF) << 32);
            return page(frame, va, MIB_4);
        }
        long pte = readInt(memory, (pde & 0xFFFF_F000L) + ((va >>> 12) & 0x3FF) * 4);
        if ((pte & PRESENT) == 0) {
            return Optional.empty();
        }
        return page(pte & 0xFFFF_F000L, va, KIB_4);
    }

    private static Optional<Translation> page(long frame, long va, long size) {
        return Optional.of(new Translation(frame | (va & (size - 1)), size));
    }

    private static long readInt(PhysicalMemory memory, long address) {
        byte[] b = new byte[4];
        memory.read(address, b, 0, 4);
        return (b[0] & 0xFFL) | (b[1] & 0xFFL) << 8 | (b[2] & 0xFFL) << 16 | (b[3] & 0xFFL) << 24;
    }
}

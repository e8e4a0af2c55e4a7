package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.AddressTranslator.PagingState;
import org.kvmgdb.api.arch.AddressTranslator.Translation;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.testing.TestMemory;
import org.kvmgdb.arch.x86.X86PageWalker;
import org.kvmgdb.arch.x86.X86PageWalker.X86PagingState;

/**
 * The KPTI fallback on synthetic x86-64 page tables and fake vCPUs: vCPU 0 stopped in "user mode"
 * on tables that map a user page and only a sliver of the kernel; vCPU 1 on full kernel tables;
 * vCPU 2 whose registers cannot be read.
 */
class AddressSpacesTest {
    private static final long P = 1, RW = 2, US = 4, PS = 0x80;
    private static final long KERNEL = 0xFFFF_8000_0000_0000L;
    private static final long USER = 0x40_0000L;
    private static final long CR0 = 0x8005_0033L, CR4 = 0x20, EFER = 0x500;

    /** 16 MiB of RAM. */
    private final TestMemory ram = TestMemory.flat(16 << 20);
    private final X86PageWalker walker = new X86PageWalker();
    /** vCPU 0, user mode under KPTI: PML4 0x10000 maps the user page and the kernel's entry trampoline only. */
    private final X86PagingState user = new X86PagingState(CR0, 0x10000, CR4, EFER);
    /** vCPU 1, in the kernel: PML4 0x20000 maps the whole kernel half's first GiB. */
    private final X86PagingState kernel = new X86PagingState(CR0, 0x20000, CR4, EFER);
    private final AtomicInteger captures = new AtomicInteger();

    AddressSpacesTest() {
        // User tables: PML4[0] -> PDPT -> PD[2] = 2 MiB user page at 0x600000; PML4[256] -> PDPT -> PD[0] -> PT[0] = trampoline.
        ram.writeLong(0x10000, 0x11000 | RW | US | P);
        ram.writeLong(0x11000, 0x12000 | RW | US | P);
        ram.writeLong(0x12000 + 2 * 8, 0x60_0000L | PS | RW | US | P);
        ram.writeLong(0x10000 + 256 * 8, 0x13000 | RW | P);
        ram.writeLong(0x13000, 0x14000 | RW | P);
        ram.writeLong(0x14000, 0x15000 | RW | P);
        ram.writeLong(0x15000, 0x70_0000L | P);
        // Kernel tables: PML4[256] -> PDPT -> 1 GiB page at 0 (so KERNEL + x lands on x).
        ram.writeLong(0x20000 + 256 * 8, 0x21000 | RW | P);
        ram.writeLong(0x21000, PS | RW | P);
    }

    private Supplier<PagingState> counted(PagingState state) {
        return () -> {
            captures.incrementAndGet();
            return state;
        };
    }

    private AddressSpaces spaces(PagingState selected, List<Supplier<PagingState>> others) {
        return new AddressSpaces(walker, ram, selected, others);
    }

    private static Optional<Long> physical(AddressSpaces s, long va) {
        return s.translate(va).map(Translation::physicalAddress);
    }

    @Test
    void whatTheSelectedVcpuMapsNeedsNoOtherVcpu() {
        AddressSpaces s = spaces(user, List.of(counted(kernel)));
        assertEquals(Optional.of(0x60_1234L), physical(s, USER + 0x1234));
        assertEquals(Optional.of(0x70_0010L), physical(s, KERNEL + 0x10), "the trampoline is mapped in the user tables");
        assertEquals(0, captures.get(), "no other vCPU's registers were read");
    }

    @Test
    void aKernelAddressTheUserTablesLackIsTakenFromAnotherVcpu() {
        AddressSpaces s = spaces(user, List.of(counted(kernel)));
        assertEquals(Optional.of(0x10_0000L), physical(s, KERNEL + 0x10_0000));
        assertEquals(Optional.of(0x12_3456L), physical(s, KERNEL + 0x12_3456));
        assertEquals(1, captures.get(), "the other vCPU's paging state is read once per request");
        assertEquals(Optional.of(0x10_0000L), physical(spaces(kernel, List.of()), KERNEL + 0x10_0000),
                "the same bytes the kernel vCPU itself sees");
    }

    @Test
    void aUserAddressIsNeverTakenFromAnotherVcpu() {
        ram.writeLong(0x20000, 0x22000 | RW | US | P); // the kernel vCPU's tables map low memory too
        ram.writeLong(0x22000, PS | RW | US | P);
        AddressSpaces s = spaces(user, List.of(counted(kernel)));
        assertEquals(Optional.empty(), physical(s, 0x1000), "another process's memory, not this one's");
        assertEquals(0, captures.get());
    }

    @Test
    void aVcpuWhoseRegistersCannotBeReadIsSkipped() {
        Supplier<PagingState> broken = () -> {
            captures.incrementAndGet();
            throw new HypervisorException("KVM_GET_SREGS failed", 5);
        };
        AddressSpaces s = spaces(user, List.of(broken, counted(kernel)));
        assertEquals(Optional.of(0x10_0000L), physical(s, KERNEL + 0x10_0000));
        assertEquals(Optional.of(0x20_0000L), physical(s, KERNEL + 0x20_0000));
        assertEquals(2, captures.get(), "the broken one is tried once, the good one read once");
    }

    @Test
    void noVcpuMapsItThenItIsNotMapped() {
        AddressSpaces s = spaces(user, List.of(counted(kernel), counted(user)));
        assertTrue(s.translate(KERNEL + (2L << 30)).isEmpty());
        assertTrue(s.translate(0x0000_7000_0000_0000L).isEmpty());
    }
}

package org.kvmgdb.arch.x86;

import java.util.List;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.X86Mappings.Mapping;
import org.kvmgdb.arch.x86.X86PageWalker.X86PagingState;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

/**
 * {@code monitor info mem START END}: what the selected vCPU's page tables map in virtual
 * {@code [START, END)}, one line per run of pages (virtual range, physical start, page size,
 * access), like QEMU's {@code info mem} with the physical side added.
 */
final class X86InfoMem implements MonitorCommand {
    /** Enough lines for any sensible question; a wider range is cut there, and the output says so. */
    static final int MAX_LINES = 512;

    @Override
    public String name() {
        return "info mem";
    }

    @Override
    public String usage() {
        return "START END";
    }

    @Override
    public String help() {
        return "the page-table mappings of virtual [START, END) on the selected vCPU: physical address, page size, access";
    }

    @Override
    public String run(VcpuHandle vcpu, List<String> arguments) {
        if (arguments.size() != 2) {
            throw new IllegalArgumentException("info mem takes a start and an end address");
        }
        long start = X86InfoRegs.parseAddress(arguments.get(0), "START");
        long end = X86InfoRegs.parseAddress(arguments.get(1), "END");
        if (Long.compareUnsigned(start, end) >= 0) {
            throw new IllegalArgumentException(String.format("END (0x%x) must be above START (0x%x)", end, start));
        }
        KvmSregs sregs = KvmSregs.read(vcpu);
        X86PagingState state = new X86PagingState(sregs.cr0(), sregs.cr3(), sregs.cr4(), sregs.efer());
        X86Mappings.Walk walk = X86Mappings.walk(state, vcpu.vm().memory(), start, end, MAX_LINES);
        StringBuilder out = new StringBuilder();
        out.append(String.format("vCPU %d, %s, cr3 0x%x: [0x%x, 0x%x)%n", vcpu.index(), mode(state), state.cr3(), start, end));
        if (walk.mappings().isEmpty()) {
            out.append("nothing is mapped there\n");
            return out.toString();
        }
        out.append(String.format("%-37s    %-18s  %-4s  %s%n", "virtual", "physical", "page", "access"));
        for (Mapping m : walk.mappings()) {
            out.append(String.format("0x%016x-%s -> 0x%016x  %-4s  %s%n", m.virtualAddress(), end(m), m.physicalAddress(),
                    size(m.pageSize()), access(m)));
        }
        if (walk.truncated()) {
            out.append("(stopped after ").append(MAX_LINES).append(" lines: ask for a narrower range to see the rest)\n");
        }
        return out.toString();
    }

    static String mode(X86PagingState s) {
        if ((s.cr0() & X86PageWalker.CR0_PG) == 0) {
            return "paging off";
        }
        if ((s.efer() & X86PageWalker.EFER_LMA) != 0) {
            return (s.cr4() & X86PageWalker.CR4_LA57) != 0 ? "5-level paging" : "4-level paging";
        }
        return (s.cr4() & X86PageWalker.CR4_PAE) != 0 ? "PAE paging" : "32-bit paging";
    }

    private static String end(Mapping m) {
        // The run that ends at the very top of the address space ends at 2^64, which a long cannot hold.
        return m.virtualEnd() == 0 ? "0x10000000000000000" : String.format("0x%016x", m.virtualEnd());
    }

    static String size(long pageSize) {
        if (pageSize >= X86PageWalker.GIB_1) {
            return (pageSize >>> 30) + "G";
        }
        if (pageSize >= 1L << 20) {
            return (pageSize >>> 20) + "M";
        }
        return (pageSize >>> 10) + "K";
    }

    static String access(Mapping m) {
        return (m.writable() ? "rw" : "ro") + (m.user() ? " user" : " kernel") + (m.executable() ? " exec" : " nx");
    }
}

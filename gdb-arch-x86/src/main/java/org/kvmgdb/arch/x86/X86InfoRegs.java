package org.kvmgdb.arch.x86;

import java.util.ArrayList;
import java.util.List;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.kvm.KvmDebugRegs;
import org.kvmgdb.arch.x86.kvm.KvmSegment;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

/**
 * {@code monitor info regs}: the registers gdb's {@code info registers} does not decode, from
 * KVM_GET_SREGS and KVM_GET_DEBUGREGS: control registers and EFER with their flags by the names of
 * the Intel SDM (and QEMU's {@code i386_cr0}... flags types), every segment register with its hidden
 * descriptor cache, the descriptor tables, the APIC base, and the guest's own debug registers.
 */
final class X86InfoRegs implements MonitorCommand {
    /** CR0 bits (Intel SDM Vol. 3, 2.5 "Control Registers"). */
    private static final String[] CR0 = bitNames(0, "PE", 1, "MP", 2, "EM", 3, "TS", 4, "ET", 5, "NE", 16, "WP",
            18, "AM", 29, "NW", 30, "CD", 31, "PG");
    /** CR4 bits (Intel SDM Vol. 3, 2.5). */
    private static final String[] CR4 = bitNames(0, "VME", 1, "PVI", 2, "TSD", 3, "DE", 4, "PSE", 5, "PAE", 6, "MCE",
            7, "PGE", 8, "PCE", 9, "OSFXSR", 10, "OSXMMEXCPT", 11, "UMIP", 12, "LA57", 13, "VMXE", 14, "SMXE",
            16, "FSGSBASE", 17, "PCIDE", 18, "OSXSAVE", 19, "KL", 20, "SMEP", 21, "SMAP", 22, "PKE", 23, "CET",
            24, "PKS", 25, "UINTR");
    /** IA32_EFER bits (Intel SDM Vol. 3, 2.2.1; AMD APM Vol. 2, 3.1.7 for SVME, LMSLE, FFXSR, TCE). */
    private static final String[] EFER = bitNames(0, "SCE", 8, "LME", 10, "LMA", 11, "NXE", 12, "SVME", 13, "LMSLE",
            14, "FFXSR", 15, "TCE");
    /** IA32_APIC_BASE bits (Intel SDM Vol. 3, 11.4.4). */
    private static final String[] APIC_BASE = bitNames(8, "BSP", 10, "EXTD", 11, "EN");
    /** DR6 status bits (Intel SDM Vol. 3, 18.2.3). */
    private static final String[] DR6 = bitNames(0, "B0", 1, "B1", 2, "B2", 3, "B3", 13, "BD", 14, "BS", 15, "BT");

    private static final String[] SEGMENTS = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldtr"};
    private static final int[] SEGMENT_OFFSETS = {KvmSregs.CS, KvmSregs.DS, KvmSregs.ES, KvmSregs.FS, KvmSregs.GS,
        KvmSregs.SS, KvmSregs.TR, KvmSregs.LDT};

    @Override
    public String name() {
        return "info regs";
    }

    @Override
    public String help() {
        return "control, segment, descriptor-table and debug registers of the selected vCPU, decoded";
    }

    @Override
    public String run(VcpuHandle vcpu, List<String> arguments) {
        if (!arguments.isEmpty()) {
            throw new IllegalArgumentException("info regs takes no arguments");
        }
        // Named first: gdb sends no Hg before qRcmd, so after "thread N" the vCPU may not be the one gdb shows.
        return "vCPU " + vcpu.index() + ":\n" + format(KvmSregs.read(vcpu), KvmDebugRegs.read(vcpu));
    }

    static String format(KvmSregs s, KvmDebugRegs d) {
        StringBuilder out = new StringBuilder();
        line(out, "cr0", s.cr0(), flags(s.cr0(), CR0));
        line(out, "cr2", s.get(KvmSregs.CR2), "");
        line(out, "cr3", s.cr3(), cr3(s.cr3(), s.cr4()));
        line(out, "cr4", s.cr4(), flags(s.cr4(), CR4));
        line(out, "cr8", s.get(KvmSregs.CR8), "TPR " + (s.get(KvmSregs.CR8) & 0xF));
        line(out, "efer", s.efer(), flags(s.efer(), EFER));
        for (int i = 0; i < SEGMENTS.length; i++) {
            out.append(segment(SEGMENTS[i], s.segment(SEGMENT_OFFSETS[i]))).append('\n');
        }
        out.append(String.format("%-9s base 0x%016x  limit 0x%04x%n", "gdt", s.tableBase(KvmSregs.GDT), s.tableLimit(KvmSregs.GDT)));
        out.append(String.format("%-9s base 0x%016x  limit 0x%04x%n", "idt", s.tableBase(KvmSregs.IDT), s.tableLimit(KvmSregs.IDT)));
        long apic = s.get(KvmSregs.APIC_BASE);
        line(out, "apic_base", apic, join(flags(apic, APIC_BASE), String.format("at 0x%x", apic & ~0xFFFL)));
        for (int n = 0; n < 4; n++) {
            line(out, "dr" + n, d.get(KvmDebugRegs.DB + 8 * n), "");
        }
        line(out, "dr6", d.get(KvmDebugRegs.DR6), flags(d.get(KvmDebugRegs.DR6), DR6));
        line(out, "dr7", d.get(KvmDebugRegs.DR7), dr7(d.get(KvmDebugRegs.DR7)));
        out.append("(dr0-dr7 are the guest's own; the breakpoints gdb sets live in KVM's guest-debug state)\n");
        return out.toString();
    }

    private static void line(StringBuilder out, String name, long value, String decoded) {
        String hex = "0x" + Long.toHexString(value);
        out.append(decoded.isEmpty() ? String.format("%-9s %s%n", name, hex) : String.format("%-9s %-18s  %s%n", name, hex, decoded));
    }

    /** The page-table base, and either the PCID (CR4.PCIDE) or the PWT/PCD cache bits. */
    private static String cr3(long cr3, long cr4) {
        String base = String.format("page tables at 0x%x", cr3 & X86PageWalker.ADDRESS_MASK);
        if ((cr4 & (1L << 17)) != 0) {
            return base + " PCID " + (cr3 & 0xFFF);
        }
        return join(base, join((cr3 & (1 << 3)) != 0 ? "PWT" : "", (cr3 & (1 << 4)) != 0 ? "PCD" : ""));
    }

    /** {@code name selector base limit type dpl and the attribute bits}, or "unusable". */
    static String segment(String name, KvmSegment g) {
        String head = String.format("%-9s 0x%04x  ", name, g.selector());
        if (g.unusable()) {
            return head + "unusable";
        }
        List<String> bits = new ArrayList<>();
        if (g.present()) {
            bits.add("P");
        }
        if (g.l()) {
            bits.add("L");
        }
        if (g.db()) {
            bits.add("DB");
        }
        if (g.g()) {
            bits.add("G");
        }
        if (g.avl()) {
            bits.add("AVL");
        }
        return head + String.format("base 0x%016x  limit 0x%08x  type 0x%x %s  dpl %d  %s", g.base(), g.limit(), g.type(),
                type(g), g.dpl(), String.join(" ", bits));
    }

    /** The descriptor type (Intel SDM Vol. 3, 3.4.5.1 and 3.5; system types as long mode reads them). */
    static String type(KvmSegment g) {
        int t = g.type();
        if (g.s()) {
            if ((t & 0x8) != 0) {
                return "code" + ((t & 0x2) != 0 ? " execute/read" : " execute-only") + ((t & 0x4) != 0 ? " conforming" : "")
                        + ((t & 0x1) != 0 ? " accessed" : "");
            }
            return "data" + ((t & 0x2) != 0 ? " read/write" : " read-only") + ((t & 0x4) != 0 ? " expand-down" : "")
                    + ((t & 0x1) != 0 ? " accessed" : "");
        }
        switch (t) {
            case 0x1:
                return "16-bit TSS (available)";
            case 0x2:
                return "LDT";
            case 0x3:
                return "16-bit TSS (busy)";
            case 0x9:
                return "TSS (available)";
            case 0xB:
                return "TSS (busy)";
            case 0xC:
                return "call gate";
            case 0xE:
                return "interrupt gate";
            case 0xF:
                return "trap gate";
            default:
                return "system type " + t;
        }
    }

    /** Each enabled slot of DR7 (Intel SDM Vol. 3, 18.2.4): local/global, what it watches, how many bytes. */
    static String dr7(long dr7) {
        List<String> slots = new ArrayList<>();
        for (int n = 0; n < 4; n++) {
            boolean local = (dr7 & (1L << (2 * n))) != 0;
            boolean global = (dr7 & (1L << (2 * n + 1))) != 0;
            if (!local && !global) {
                continue;
            }
            int rw = (int) (dr7 >>> (16 + 4 * n)) & 3;
            int len = (int) (dr7 >>> (18 + 4 * n)) & 3;
            String what = rw == 0 ? "execute" : rw == 1 ? "write" : rw == 2 ? "I/O" : "read/write";
            int bytes = len == 0 ? 1 : len == 1 ? 2 : len == 2 ? 8 : 4;
            slots.add(String.format("dr%d: %s%s %s %d", n, local ? "L" : "", global ? "G" : "", what, bytes));
        }
        String enabled = slots.isEmpty() ? "no slot enabled" : String.join(", ", slots);
        return join(enabled, join((dr7 & (1L << 8)) != 0 ? "LE" : "", join((dr7 & (1L << 9)) != 0 ? "GE" : "",
                (dr7 & (1L << 13)) != 0 ? "GD" : "")));
    }

    /** The names of the set bits that have one; reserved and unnamed bits are left to the hex value. */
    static String flags(long value, String[] names) {
        List<String> set = new ArrayList<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((value & (1L << bit)) != 0 && names[bit] != null) {
                set.add(names[bit]);
            }
        }
        return String.join(" ", set);
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : b.isEmpty() ? a : a + " " + b;
    }

    private static String[] bitNames(Object... pairs) {
        String[] names = new String[64];
        for (int i = 0; i < pairs.length; i += 2) {
            names[(Integer) pairs[i]] = (String) pairs[i + 1];
        }
        return names;
    }

    /**
     * An address as a user types it after {@code monitor}: {@code 0x}-prefixed hex or decimal.
     *
     * @throws IllegalArgumentException naming {@code what} when it is neither
     */
    static long parseAddress(String text, String what) {
        try {
            if (text.startsWith("0x") || text.startsWith("0X")) {
                return Long.parseUnsignedLong(text.substring(2), 16);
            }
            return Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + text + "' is not a number (hex needs 0x)");
        }
    }
}

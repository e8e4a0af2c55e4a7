package org.kvmgdb.arch.x86;

import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.kvm.KvmCpuid2;
import org.kvmgdb.arch.x86.kvm.KvmFpu;
import org.kvmgdb.arch.x86.kvm.KvmRegs;
import org.kvmgdb.arch.x86.kvm.KvmSegment;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

/**
 * The x86-64 guest ABI of DESIGN.md: every vCPU starts at the ELF entry in 64-bit long mode, paging
 * on with all of RAM identity-mapped by 2 MiB pages, flat segments, interrupts off,
 * {@code RDI} = vCPU index, {@code RSI} = vCPU count, {@code RDX} = RAM size, {@code RSP} = top of
 * RAM - index x 64 KiB.
 *
 * <p>The boot structures live in the VMM's reserved low memory:
 * <pre>
 *   0x1000  GDT: null, 0x08 64-bit code, 0x10 data
 *   0x2000  PML4, one entry -> PDPT
 *   0x3000  PDPT, one entry per GiB of RAM -> its page directory
 *   0x4000  page directories, 512 x 2 MiB each (12 fit below 64 KiB: up to 12 GiB of RAM)
 * </pre>
 * Page 0 stays untouched so a guest's null pointer reads zeros rather than page tables.
 */
public final class X86BootState implements BootState {
    public static final long GDT_ADDRESS = 0x1000;
    public static final long PML4_ADDRESS = 0x2000;
    public static final long PDPT_ADDRESS = 0x3000;
    public static final long PD_ADDRESS = 0x4000;
    public static final int CODE_SELECTOR = 0x08;
    public static final int DATA_SELECTOR = 0x10;

    /** Flat 64-bit code: base 0, limit 0xFFFFF, G=1, L=1, D=0, P=1, DPL 0, S=1, type 0xB (execute/read, accessed). */
    static final long GDT_CODE64 = 0x00AF_9B00_0000_FFFFL;
    /** Flat data: base 0, limit 0xFFFFF, G=1, D/B=1, P=1, DPL 0, S=1, type 0x3 (read/write, accessed). */
    static final long GDT_DATA = 0x00CF_9300_0000_FFFFL;
    static final int GDT_LIMIT = 3 * 8 - 1;

    /** PE | MP | ET | NE | WP | AM | PG: what KVM-HERE.md records as running here. */
    static final long CR0 = 0x8005_0033L;
    /** PAE | OSFXSR | OSXMMEXCPT: long mode needs PAE; the other two let guests use SSE. */
    static final long CR4 = (1L << 5) | (1L << 9) | (1L << 10);
    /** LME | LMA. */
    static final long EFER = (1L << 8) | (1L << 10);
    /** Only the reserved bit 1: interrupts off. */
    static final long RFLAGS = 0x2;
    /** FNINIT's control word and the reset MXCSR (all exceptions masked). */
    static final int FCW = 0x37F;
    static final int MXCSR = 0x1F80;

    static final long PAGE = 4096;
    static final long TABLE_PRESENT_WRITABLE = 0x3;
    /** Present, writable, PS: a 2 MiB page. */
    static final long PDE_2M = 0x83;
    static final long MIB_2 = 1L << 21;
    static final long GIB_1 = 1L << 30;
    static final long STACK_PER_VCPU = 64 * 1024;

    @Override
    public void prepareMemory(PhysicalMemory memory, BootParameters p) {
        int directories = directoriesFor(p.ramSize());
        long end = PD_ADDRESS + directories * PAGE;
        if (end > p.reservedBytes() || end > memory.size()) {
            throw new IllegalArgumentException(String.format(
                    "%d MiB of RAM needs page tables up to 0x%x, beyond the %d KiB reserved for boot structures",
                    p.ramSize() >> 20, end, p.reservedBytes() >> 10));
        }
        byte[] gdt = new byte[(int) PAGE];
        putLong(gdt, 0x08, GDT_CODE64);
        putLong(gdt, 0x10, GDT_DATA);
        memory.write(GDT_ADDRESS, gdt, 0, gdt.length);

        byte[] pml4 = new byte[(int) PAGE];
        putLong(pml4, 0, PDPT_ADDRESS | TABLE_PRESENT_WRITABLE);
        memory.write(PML4_ADDRESS, pml4, 0, pml4.length);

        byte[] pdpt = new byte[(int) PAGE];
        for (int i = 0; i < directories; i++) {
            putLong(pdpt, i * 8, (PD_ADDRESS + i * PAGE) | TABLE_PRESENT_WRITABLE);
        }
        memory.write(PDPT_ADDRESS, pdpt, 0, pdpt.length);

        long pages = (p.ramSize() + MIB_2 - 1) / MIB_2;
        for (int d = 0; d < directories; d++) {
            byte[] pd = new byte[(int) PAGE];
            for (int i = 0; i < 512; i++) {
                long page = d * 512L + i;
                if (page < pages) {
                    putLong(pd, i * 8, page * MIB_2 | PDE_2M);
                }
            }
            memory.write(PD_ADDRESS + d * PAGE, pd, 0, pd.length);
        }
    }

    /** Page directories (1 GiB each) needed to map {@code ramSize} bytes. */
    static int directoriesFor(long ramSize) {
        if (ramSize <= 0 || ramSize > 512 * GIB_1) {
            throw new IllegalArgumentException("RAM size " + ramSize + " out of range");
        }
        return (int) ((ramSize + GIB_1 - 1) / GIB_1);
    }

    @Override
    public void boot(VcpuHandle vcpu, BootParameters p) {
        int index = vcpu.index();
        long stackTop = (p.ramSize() - index * STACK_PER_VCPU) & ~0xFL;
        if (stackTop <= p.reservedBytes()) {
            throw new IllegalArgumentException("no room for the stack of vCPU " + index + " in " + p.ramSize() + " bytes of RAM");
        }

        KvmCpuid2 cpuid = KvmCpuid2.supported(vcpu.vm());
        setApicIds(cpuid, index);
        cpuid.setOn(vcpu);

        // Read-modify-write: TR, LDT, IDT and apic_base keep KVM's reset values, which VM entry accepts.
        KvmSregs sregs = KvmSregs.read(vcpu);
        sregs.segment(KvmSregs.CS, KvmSegment.flatCode64(CODE_SELECTOR));
        KvmSegment data = KvmSegment.flatData(DATA_SELECTOR);
        for (int seg : new int[] {KvmSregs.DS, KvmSregs.ES, KvmSregs.FS, KvmSregs.GS, KvmSregs.SS}) {
            sregs.segment(seg, data);
        }
        sregs.table(KvmSregs.GDT, GDT_ADDRESS, GDT_LIMIT);
        sregs.set(KvmSregs.CR0, CR0).set(KvmSregs.CR3, PML4_ADDRESS).set(KvmSregs.CR4, CR4).set(KvmSregs.EFER, EFER);
        sregs.write(vcpu);

        new KvmRegs()
                .rip(p.entryPoint())
                .rflags(RFLAGS)
                .set(KvmRegs.RDI, index)
                .set(KvmRegs.RSI, p.vcpuCount())
                .set(KvmRegs.RDX, p.ramSize())
                .set(KvmRegs.RSP, stackTop)
                .write(vcpu);

        new KvmFpu().fcw(FCW).mxcsr(MXCSR).write(vcpu);
    }

    /**
     * Gives each vCPU its own APIC id in the CPUID leaves that report it (leaf 1 EBX[31:24], and
     * the x2APIC id in EDX of leaves 0xB and 0x1F), as QEMU and Firecracker do; KVM's supported
     * list has 0 there.
     */
    static void setApicIds(KvmCpuid2 cpuid, int index) {
        for (int i = 0; i < cpuid.count(); i++) {
            int function = cpuid.get(i, KvmCpuid2.FUNCTION);
            if (function == 1) {
                int ebx = cpuid.get(i, KvmCpuid2.EBX);
                cpuid.set(i, KvmCpuid2.EBX, (ebx & 0x00FF_FFFF) | (index << 24));
            } else if (function == 0xB || function == 0x1F) {
                cpuid.set(i, KvmCpuid2.EDX, index);
            }
        }
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }
}

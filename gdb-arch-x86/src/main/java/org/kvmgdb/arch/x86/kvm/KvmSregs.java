package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_sregs} (arch/x86/include/uapi/asm/kvm.h), 312 bytes, for KVM_GET_SREGS and
 * KVM_SET_SREGS: segment registers, descriptor tables, control registers, EFER.
 */
public final class KvmSregs extends KvmStruct {
    public static final int SIZE = 312;

    // struct kvm_segment cs, ds, es, fs, gs, ss;   24 bytes each
    public static final int CS = 0, DS = 24, ES = 48, FS = 72, GS = 96, SS = 120;
    // struct kvm_segment tr, ldt;
    public static final int TR = 144, LDT = 168;
    // struct kvm_dtable gdt, idt;   { __u64 base; __u16 limit; __u16 padding[3]; } 16 bytes each
    public static final int GDT = 192, IDT = 208;
    private static final int DTABLE_BASE = 0, DTABLE_LIMIT = 8;
    // __u64 cr0, cr2, cr3, cr4, cr8;
    public static final int CR0 = 224, CR2 = 232, CR3 = 240, CR4 = 248, CR8 = 256;
    // __u64 efer;
    public static final int EFER = 264;
    // __u64 apic_base;
    public static final int APIC_BASE = 272;
    // __u64 interrupt_bitmap[(KVM_NR_INTERRUPTS + 63) / 64];   4 x __u64
    public static final int INTERRUPT_BITMAP = 280;

    public KvmSregs() {
        super(SIZE);
    }

    /** KVM_GET_SREGS. */
    public static KvmSregs read(VcpuHandle vcpu) {
        KvmSregs sregs = new KvmSregs();
        vcpu.ioctl(KvmIoctls.KVM_GET_SREGS, sregs.buffer);
        return sregs;
    }

    /** KVM_SET_SREGS. */
    public void write(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_SREGS, buffer);
    }

    /** The segment at {@link #CS} ... {@link #LDT}. */
    public KvmSegment segment(int offset) {
        return KvmSegment.decode(buffer, offset);
    }

    public KvmSregs segment(int offset, KvmSegment segment) {
        segment.encode(buffer, offset);
        return this;
    }

    /** Base of the descriptor table at {@link #GDT} or {@link #IDT}. */
    public long tableBase(int offset) {
        return buffer.getLong(offset + DTABLE_BASE);
    }

    public int tableLimit(int offset) {
        return buffer.getShort(offset + DTABLE_LIMIT) & 0xFFFF;
    }

    public KvmSregs table(int offset, long base, int limit) {
        buffer.putLong(offset + DTABLE_BASE, base);
        buffer.putShort(offset + DTABLE_LIMIT, (short) limit);
        return this;
    }

    /** The {@code __u64} at {@link #CR0} ... {@link #APIC_BASE}. */
    public long get(int offset) {
        return buffer.getLong(offset);
    }

    public KvmSregs set(int offset, long value) {
        buffer.putLong(offset, value);
        return this;
    }

    public long cr0() {
        return get(CR0);
    }

    public long cr3() {
        return get(CR3);
    }

    public long cr4() {
        return get(CR4);
    }

    public long efer() {
        return get(EFER);
    }
}

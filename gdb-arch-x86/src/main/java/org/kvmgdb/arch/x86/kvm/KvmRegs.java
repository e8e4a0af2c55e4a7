package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_regs} (arch/x86/include/uapi/asm/kvm.h), 144 bytes, for KVM_GET_REGS and
 * KVM_SET_REGS. Eighteen {@code __u64} in the kernel's order, which is not GDB's (rsp comes before rbp).
 */
public final class KvmRegs extends KvmStruct {
    public static final int SIZE = 144;

    // __u64 rax, rbx, rcx, rdx;
    public static final int RAX = 0, RBX = 8, RCX = 16, RDX = 24;
    // __u64 rsi, rdi, rsp, rbp;
    public static final int RSI = 32, RDI = 40, RSP = 48, RBP = 56;
    // __u64 r8, r9, r10, r11;
    public static final int R8 = 64, R9 = 72, R10 = 80, R11 = 88;
    // __u64 r12, r13, r14, r15;
    public static final int R12 = 96, R13 = 104, R14 = 112, R15 = 120;
    // __u64 rip, rflags;
    public static final int RIP = 128, RFLAGS = 136;

    public KvmRegs() {
        super(SIZE);
    }

    /** KVM_GET_REGS. */
    public static KvmRegs read(VcpuHandle vcpu) {
        KvmRegs regs = new KvmRegs();
        vcpu.ioctl(KvmIoctls.KVM_GET_REGS, regs.buffer);
        return regs;
    }

    /** KVM_SET_REGS. */
    public void write(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_REGS, buffer);
    }

    /** The {@code __u64} at a field offset ({@link #RAX} ... {@link #RFLAGS}). */
    public long get(int offset) {
        return buffer.getLong(offset);
    }

    public KvmRegs set(int offset, long value) {
        buffer.putLong(offset, value);
        return this;
    }

    public long rip() {
        return get(RIP);
    }

    public KvmRegs rip(long rip) {
        return set(RIP, rip);
    }

    public long rflags() {
        return get(RFLAGS);
    }

    public KvmRegs rflags(long rflags) {
        return set(RFLAGS, rflags);
    }
}

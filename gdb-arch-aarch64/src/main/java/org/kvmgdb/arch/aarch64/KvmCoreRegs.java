package org.kvmgdb.arch.aarch64;

/**
 * {@code KVM_GET_ONE_REG}/{@code KVM_SET_ONE_REG} ids of the AArch64 core registers: the members of
 * {@code struct kvm_regs}. A core register's id is
 * {@code KVM_REG_ARM64 | KVM_REG_SIZE_Uxx | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(member)}, and
 * {@code KVM_REG_ARM_CORE_REG(member)} is {@code offsetof(struct kvm_regs, member) / sizeof(__u32)}
 * (arch/arm64/include/uapi/asm/kvm.h). KVM refuses an id whose size does not match the member.
 */
final class KvmCoreRegs {
    /** include/uapi/linux/kvm.h: the architecture field of a ONE_REG id. */
    static final long KVM_REG_ARM64 = 0x6000000000000000L;
    /** include/uapi/linux/kvm.h: log2 of the value's size in bytes, at bit 52 (KVM_REG_SIZE_SHIFT). */
    static final long KVM_REG_SIZE_U32 = 0x0020000000000000L;
    static final long KVM_REG_SIZE_U64 = 0x0030000000000000L;
    static final long KVM_REG_SIZE_U128 = 0x0040000000000000L;
    static final long KVM_REG_SIZE_MASK = 0x00f0000000000000L;
    static final int KVM_REG_SIZE_SHIFT = 52;
    /** arch/arm64/include/uapi/asm/kvm.h: {@code (0x0010 << KVM_REG_ARM_COPROC_SHIFT)}, shift 16. */
    static final long KVM_REG_ARM_CORE = 0x0010L << 16;

    // Offsets in struct kvm_regs (arch/arm64/include/uapi/asm/kvm.h). Its first member is
    // struct user_pt_regs regs (arch/arm64/include/uapi/asm/ptrace.h):
    //   __u64 regs[31]; __u64 sp; __u64 pc; __u64 pstate;
    /** {@code regs.regs[n]} (x0..x30) is at {@code 8 * n}. */
    static final int OFFSET_REGS = 0;
    /** {@code regs.sp}: the kernel's comment says {@code sp = sp_el0}. */
    static final int OFFSET_SP_EL0 = 248;
    /** {@code regs.pc}. */
    static final int OFFSET_PC = 256;
    /** {@code regs.pstate}, a __u64 (GDB's cpsr is its low 32 bits). */
    static final int OFFSET_PSTATE = 264;
    /** {@code __u64 sp_el1}, after user_pt_regs. */
    static final int OFFSET_SP_EL1 = 272;
    /** {@code __u64 elr_el1}. */
    static final int OFFSET_ELR_EL1 = 280;
    /** {@code __u64 spsr[KVM_NR_SPSR]}, KVM_NR_SPSR = 5: 288..327. */
    static final int OFFSET_SPSR = 288;
    /**
     * {@code struct user_fpsimd_state fp_regs} (ptrace.h): {@code __uint128_t vregs[32]; __u32 fpsr;
     * __u32 fpcr;}. __uint128_t is 16-byte aligned, so fp_regs starts at 336, not at 328.
     */
    static final int OFFSET_VREGS = 336;
    /** {@code fp_regs.fpsr}: after 32 vregs of 16 bytes. */
    static final int OFFSET_FPSR = OFFSET_VREGS + 32 * 16;
    /** {@code fp_regs.fpcr}. */
    static final int OFFSET_FPCR = OFFSET_FPSR + 4;

    static final long SP_EL0 = core(KVM_REG_SIZE_U64, OFFSET_SP_EL0);
    static final long PC = core(KVM_REG_SIZE_U64, OFFSET_PC);
    static final long PSTATE = core(KVM_REG_SIZE_U64, OFFSET_PSTATE);
    static final long SP_EL1 = core(KVM_REG_SIZE_U64, OFFSET_SP_EL1);
    static final long ELR_EL1 = core(KVM_REG_SIZE_U64, OFFSET_ELR_EL1);
    /** {@code spsr[KVM_SPSR_EL1]}; KVM_SPSR_EL1 is 0 (the others are AArch32 banked SPSRs). */
    static final long SPSR_EL1 = core(KVM_REG_SIZE_U64, OFFSET_SPSR + 8 * 0);
    static final long FPSR = core(KVM_REG_SIZE_U32, OFFSET_FPSR);
    static final long FPCR = core(KVM_REG_SIZE_U32, OFFSET_FPCR);

    private KvmCoreRegs() {
    }

    /** The id of the core register of {@code size} (a KVM_REG_SIZE_* value) at {@code offset} in struct kvm_regs. */
    static long core(long size, int offset) {
        return KVM_REG_ARM64 | size | KVM_REG_ARM_CORE | (offset / 4);
    }

    /** x{@code n}, n = 0..30: {@code regs.regs[n]}. */
    static long x(int n) {
        if (n < 0 || n > 30) {
            throw new IllegalArgumentException("x" + n);
        }
        return core(KVM_REG_SIZE_U64, OFFSET_REGS + 8 * n);
    }

    /** v{@code n}, n = 0..31: {@code fp_regs.vregs[n]}, 128 bits. */
    static long v(int n) {
        if (n < 0 || n > 31) {
            throw new IllegalArgumentException("v" + n);
        }
        return core(KVM_REG_SIZE_U128, OFFSET_VREGS + 16 * n);
    }

    /** Bytes of the value a ONE_REG id names ({@code KVM_REG_SIZE(id)} in the kernel header). */
    static int size(long id) {
        return 1 << (int) ((id & KVM_REG_SIZE_MASK) >>> KVM_REG_SIZE_SHIFT);
    }
}

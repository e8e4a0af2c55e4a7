package org.kvmgdb.arch.aarch64;

/**
 * ONE_REG ids of the EL1 registers an exception entry writes, for re-injecting a guest's own debug
 * exception. SPSR_EL1 is a core register ({@code spsr[KVM_SPSR_EL1]} in struct kvm_regs); the others
 * are system registers, {@code ARM64_SYS_REG(op0, op1, CRn, CRm, op2)} in
 * arch/arm64/include/uapi/asm/kvm.h.
 */
final class Aarch64ExceptionRegs {
    /** arch/arm64/include/uapi/asm/kvm.h: {@code KVM_REG_ARM64_SYSREG = 0x0013 << KVM_REG_ARM_COPROC_SHIFT}. */
    static final long KVM_REG_ARM64_SYSREG = 0x0013L << 16;

    /** {@code spsr[KVM_SPSR_EL1]}, KVM_SPSR_EL1 = 0: the first of struct kvm_regs' spsr[5]. */
    static final long SPSR_EL1 = KvmCoreRegs.core(KvmCoreRegs.KVM_REG_SIZE_U64, KvmCoreRegs.OFFSET_SPSR);
    /** ESR_EL1: S3_0_C5_C2_0. */
    static final long ESR_EL1 = sysReg(3, 0, 5, 2, 0);
    /** FAR_EL1: S3_0_C6_C0_0. */
    static final long FAR_EL1 = sysReg(3, 0, 6, 0, 0);
    /** VBAR_EL1: S3_0_C12_C0_0. */
    static final long VBAR_EL1 = sysReg(3, 0, 12, 0, 0);

    private Aarch64ExceptionRegs() {
    }

    /** {@code ARM64_SYS_REG}: op0 at bit 14, op1 at 11, CRn at 7, CRm at 3, op2 at 0 (KVM_REG_ARM64_SYSREG_*_SHIFT). */
    static long sysReg(int op0, int op1, int crn, int crm, int op2) {
        return KvmCoreRegs.KVM_REG_ARM64 | KvmCoreRegs.KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG
                | ((long) op0 << 14) | ((long) op1 << 11) | ((long) crn << 7) | ((long) crm << 3) | op2;
    }
}

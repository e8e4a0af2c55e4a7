package org.kvmgdb.arch.aarch64;

/**
 * {@code KVM_GET_ONE_REG}/{@code KVM_SET_ONE_REG} ids of AArch64 system registers. KVM names one by
 * its MRS/MSR encoding: {@code ARM64_SYS_REG(op0, op1, crn, crm, op2)} =
 * {@code KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | op0 << 14 | op1 << 11 | crn << 7
 * | crm << 3 | op2} (arch/arm64/include/uapi/asm/kvm.h). The encodings are the architecture's
 * (the kernel's arch/arm64/include/asm/sysreg.h has the same {@code sys_reg(...)} values).
 */
final class KvmSysRegs {
    /** arch/arm64/include/uapi/asm/kvm.h: {@code (0x0013 << KVM_REG_ARM_COPROC_SHIFT)}, shift 16. */
    static final long KVM_REG_ARM64_SYSREG = 0x0013L << 16;
    /** arch/arm64/include/uapi/asm/kvm.h: KVM_REG_ARM64_SYSREG_{OP0,OP1,CRN,CRM,OP2}_SHIFT. */
    static final int OP0_SHIFT = 14, OP1_SHIFT = 11, CRN_SHIFT = 7, CRM_SHIFT = 3, OP2_SHIFT = 0;

    /** One system register: its architectural encoding. */
    record Encoding(int op0, int op1, int crn, int crm, int op2) {
    }

    static final Encoding SCTLR_EL1 = new Encoding(3, 0, 1, 0, 0);
    static final Encoding TTBR0_EL1 = new Encoding(3, 0, 2, 0, 0);
    static final Encoding TTBR1_EL1 = new Encoding(3, 0, 2, 0, 1);
    static final Encoding TCR_EL1 = new Encoding(3, 0, 2, 0, 2);
    static final Encoding ESR_EL1 = new Encoding(3, 0, 5, 2, 0);
    static final Encoding FAR_EL1 = new Encoding(3, 0, 6, 0, 0);
    static final Encoding MAIR_EL1 = new Encoding(3, 0, 10, 2, 0);
    static final Encoding VBAR_EL1 = new Encoding(3, 0, 12, 0, 0);
    static final Encoding CONTEXTIDR_EL1 = new Encoding(3, 0, 13, 0, 1);
    static final Encoding TPIDR_EL1 = new Encoding(3, 0, 13, 0, 4);

    /**
     * {@code KVM_REG_ARM_TIMER_CNT}, the guest's CNTVCT_EL0. Not CNTVCT_EL0's own encoding
     * (3, 3, 14, 0, 2): the uapi header warns that the TIMER_CNT and TIMER_CVAL ids were swapped by
     * mistake and are kept as they are, so CNTVCT_EL0 is read through (3, 3, 14, 3, 2).
     */
    static final Encoding KVM_REG_ARM_TIMER_CNT = new Encoding(3, 3, 14, 3, 2);

    private KvmSysRegs() {
    }

    /** {@code ARM64_SYS_REG(op0, op1, crn, crm, op2)}: always a 64-bit value. */
    static long id(Encoding e) {
        return KvmCoreRegs.KVM_REG_ARM64 | KvmCoreRegs.KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG
                | field(e.op0(), OP0_SHIFT, 0x3) | field(e.op1(), OP1_SHIFT, 0x7) | field(e.crn(), CRN_SHIFT, 0xF)
                | field(e.crm(), CRM_SHIFT, 0xF) | field(e.op2(), OP2_SHIFT, 0x7);
    }

    private static long field(int value, int shift, int mask) {
        if ((value & ~mask) != 0) {
            throw new IllegalArgumentException("system register field " + value + " does not fit mask " + mask);
        }
        return (long) value << shift;
    }
}

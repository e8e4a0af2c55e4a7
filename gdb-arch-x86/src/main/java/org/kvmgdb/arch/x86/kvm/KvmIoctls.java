package org.kvmgdb.arch.x86.kvm;

import static org.kvmgdb.api.hypervisor.Ioctls.KVMIO;

import org.kvmgdb.api.hypervisor.Ioctls;

/**
 * The x86 KVM ioctl request numbers this plugin uses, computed like the kernel's macros in
 * include/uapi/linux/kvm.h from the struct sizes of arch/x86/include/uapi/asm/kvm.h.
 */
public final class KvmIoctls {
    private KvmIoctls() {
    }

    /** {@code _IOWR(KVMIO, 0x05, struct kvm_cpuid2)}, on the /dev/kvm fd; the struct's size without its entries. */
    public static final long KVM_GET_SUPPORTED_CPUID = Ioctls.iowr(KVMIO, 0x05, KvmCpuid2.HEADER_SIZE);
    /** {@code _IOR(KVMIO, 0x81, struct kvm_regs)} */
    public static final long KVM_GET_REGS = Ioctls.ior(KVMIO, 0x81, KvmRegs.SIZE);
    /** {@code _IOW(KVMIO, 0x82, struct kvm_regs)} */
    public static final long KVM_SET_REGS = Ioctls.iow(KVMIO, 0x82, KvmRegs.SIZE);
    /** {@code _IOR(KVMIO, 0x83, struct kvm_sregs)} */
    public static final long KVM_GET_SREGS = Ioctls.ior(KVMIO, 0x83, KvmSregs.SIZE);
    /** {@code _IOW(KVMIO, 0x84, struct kvm_sregs)} */
    public static final long KVM_SET_SREGS = Ioctls.iow(KVMIO, 0x84, KvmSregs.SIZE);
    /** {@code _IOR(KVMIO, 0x8c, struct kvm_fpu)} */
    public static final long KVM_GET_FPU = Ioctls.ior(KVMIO, 0x8c, KvmFpu.SIZE);
    /** {@code _IOW(KVMIO, 0x8d, struct kvm_fpu)} */
    public static final long KVM_SET_FPU = Ioctls.iow(KVMIO, 0x8d, KvmFpu.SIZE);
    /** {@code _IOWR(KVMIO, 0x88, struct kvm_msrs)}; the struct's size without its entries. */
    public static final long KVM_GET_MSRS = Ioctls.iowr(KVMIO, 0x88, KvmMsrs.HEADER_SIZE);
    /** {@code _IOW(KVMIO, 0x89, struct kvm_msrs)}; the struct's size without its entries. */
    public static final long KVM_SET_MSRS = Ioctls.iow(KVMIO, 0x89, KvmMsrs.HEADER_SIZE);
    /** {@code _IOW(KVMIO, 0x90, struct kvm_cpuid2)} */
    public static final long KVM_SET_CPUID2 = Ioctls.iow(KVMIO, 0x90, KvmCpuid2.HEADER_SIZE);
    /** {@code _IOW(KVMIO, 0x9b, struct kvm_guest_debug)} */
    public static final long KVM_SET_GUEST_DEBUG = Ioctls.iow(KVMIO, 0x9b, KvmGuestDebug.SIZE);
    /** {@code _IOR(KVMIO, 0x9f, struct kvm_vcpu_events)} */
    public static final long KVM_GET_VCPU_EVENTS = Ioctls.ior(KVMIO, 0x9f, KvmVcpuEvents.SIZE);
    /** {@code _IOW(KVMIO, 0xa0, struct kvm_vcpu_events)} */
    public static final long KVM_SET_VCPU_EVENTS = Ioctls.iow(KVMIO, 0xa0, KvmVcpuEvents.SIZE);
    /** {@code _IOR(KVMIO, 0xa1, struct kvm_debugregs)} */
    public static final long KVM_GET_DEBUGREGS = Ioctls.ior(KVMIO, 0xa1, KvmDebugRegs.SIZE);
    /** {@code _IOW(KVMIO, 0xa2, struct kvm_debugregs)} */
    public static final long KVM_SET_DEBUGREGS = Ioctls.iow(KVMIO, 0xa2, KvmDebugRegs.SIZE);
    /** {@code _IOR(KVMIO, 0xa4, struct kvm_xsave)} */
    public static final long KVM_GET_XSAVE = Ioctls.ior(KVMIO, 0xa4, KvmXsave.SIZE);
    /** {@code _IOW(KVMIO, 0xa5, struct kvm_xsave)} */
    public static final long KVM_SET_XSAVE = Ioctls.iow(KVMIO, 0xa5, KvmXsave.SIZE);

    /** {@code KVM_CAP_SET_GUEST_DEBUG2} (include/uapi/linux/kvm.h): the KVM_GUESTDBG_* flags the kernel accepts. */
    public static final int KVM_CAP_SET_GUEST_DEBUG2 = 195;

    /** The ioctl's name, for log lines and test messages. */
    public static String name(long request) {
        if (request == KVM_GET_SUPPORTED_CPUID) return "KVM_GET_SUPPORTED_CPUID";
        if (request == KVM_GET_REGS) return "KVM_GET_REGS";
        if (request == KVM_SET_REGS) return "KVM_SET_REGS";
        if (request == KVM_GET_SREGS) return "KVM_GET_SREGS";
        if (request == KVM_SET_SREGS) return "KVM_SET_SREGS";
        if (request == KVM_GET_FPU) return "KVM_GET_FPU";
        if (request == KVM_SET_FPU) return "KVM_SET_FPU";
        if (request == KVM_GET_MSRS) return "KVM_GET_MSRS";
        if (request == KVM_SET_MSRS) return "KVM_SET_MSRS";
        if (request == KVM_SET_CPUID2) return "KVM_SET_CPUID2";
        if (request == KVM_SET_GUEST_DEBUG) return "KVM_SET_GUEST_DEBUG";
        if (request == KVM_GET_VCPU_EVENTS) return "KVM_GET_VCPU_EVENTS";
        if (request == KVM_SET_VCPU_EVENTS) return "KVM_SET_VCPU_EVENTS";
        if (request == KVM_GET_DEBUGREGS) return "KVM_GET_DEBUGREGS";
        if (request == KVM_SET_DEBUGREGS) return "KVM_SET_DEBUGREGS";
        if (request == KVM_GET_XSAVE) return "KVM_GET_XSAVE";
        if (request == KVM_SET_XSAVE) return "KVM_SET_XSAVE";
        return String.format("ioctl 0x%x", request);
    }
}

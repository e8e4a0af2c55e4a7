package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_guest_debug} (include/uapi/linux/kvm.h) with x86's
 * {@code struct kvm_guest_debug_arch} (arch/x86/include/uapi/asm/kvm.h), 72 bytes, for KVM_SET_GUEST_DEBUG.
 */
public final class KvmGuestDebug extends KvmStruct {
    public static final int SIZE = 72;

    // __u32 control;
    public static final int CONTROL = 0;
    // __u32 pad;            at 4
    // struct kvm_guest_debug_arch { __u64 debugreg[8]; } arch;   DR0..DR7, debugreg[4] and [5] unused
    public static final int DEBUGREG = 8;

    // include/uapi/linux/kvm.h
    public static final int KVM_GUESTDBG_ENABLE = 0x0000_0001;
    public static final int KVM_GUESTDBG_SINGLESTEP = 0x0000_0002;
    // arch/x86/include/uapi/asm/kvm.h
    public static final int KVM_GUESTDBG_USE_SW_BP = 0x0001_0000;
    public static final int KVM_GUESTDBG_USE_HW_BP = 0x0002_0000;
    public static final int KVM_GUESTDBG_INJECT_DB = 0x0004_0000;
    public static final int KVM_GUESTDBG_INJECT_BP = 0x0008_0000;
    public static final int KVM_GUESTDBG_BLOCKIRQ = 0x0010_0000;

    public KvmGuestDebug() {
        super(SIZE);
    }

    /** KVM_SET_GUEST_DEBUG. */
    public void write(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_GUEST_DEBUG, buffer);
    }

    public int control() {
        return buffer.getInt(CONTROL);
    }

    public KvmGuestDebug control(int control) {
        buffer.putInt(CONTROL, control);
        return this;
    }

    /** {@code arch.debugreg[n]}: DR0..DR3 addresses, DR7 control; 6 is DR6, 4 and 5 are unused. */
    public long debugreg(int n) {
        checkIndex(n, 8, "debugreg");
        return buffer.getLong(DEBUGREG + 8 * n);
    }

    public KvmGuestDebug debugreg(int n, long value) {
        checkIndex(n, 8, "debugreg");
        buffer.putLong(DEBUGREG + 8 * n, value);
        return this;
    }
}

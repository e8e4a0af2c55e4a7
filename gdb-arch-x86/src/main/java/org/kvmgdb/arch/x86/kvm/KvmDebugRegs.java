package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_debugregs} (arch/x86/include/uapi/asm/kvm.h), 128 bytes, for
 * KVM_GET_DEBUGREGS and KVM_SET_DEBUGREGS: the guest's own DR0-DR3, DR6, DR7 (not the debugger's).
 */
public final class KvmDebugRegs extends KvmStruct {
    public static final int SIZE = 128;

    // __u64 db[4];
    public static final int DB = 0;
    // __u64 dr6;
    public static final int DR6 = 32;
    // __u64 dr7;
    public static final int DR7 = 40;
    // __u64 flags;   must be 0 on set
    public static final int FLAGS = 48;
    // __u64 reserved[9];   at 56

    public KvmDebugRegs() {
        super(SIZE);
    }

    /** KVM_GET_DEBUGREGS. */
    public static KvmDebugRegs read(VcpuHandle vcpu) {
        KvmDebugRegs regs = new KvmDebugRegs();
        vcpu.ioctl(KvmIoctls.KVM_GET_DEBUGREGS, regs.buffer);
        return regs;
    }

    /** KVM_SET_DEBUGREGS. */
    public void write(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_DEBUGREGS, buffer);
    }

    public long get(int offset) {
        return buffer.getLong(offset);
    }

    public KvmDebugRegs set(int offset, long value) {
        buffer.putLong(offset, value);
        return this;
    }
}

package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_msrs} with its flexible array of {@code struct kvm_msr_entry}
 * (arch/x86/include/uapi/asm/kvm.h), for KVM_GET_MSRS and KVM_SET_MSRS. The ioctl numbers carry only
 * the 8-byte header's size; the buffer holds {@code nmsrs} entries after it. Both ioctls return how
 * many entries they processed, which is less than {@code nmsrs} when the kernel refused one: that is
 * an error the ioctl itself does not report through errno.
 */
public final class KvmMsrs extends KvmStruct {
    // struct kvm_msrs { __u32 nmsrs; __u32 pad; struct kvm_msr_entry entries[]; }
    public static final int HEADER_SIZE = 8;
    private static final int NMSRS = 0;
    // struct kvm_msr_entry { __u32 index; __u32 reserved; __u64 data; }  16 bytes
    public static final int ENTRY_SIZE = 16;
    public static final int INDEX = 0, DATA = 8;

    /** {@code MSR_KERNEL_GS_BASE} (arch/x86/include/asm/msr-index.h): the base SWAPGS exchanges with GS's. */
    public static final int MSR_KERNEL_GS_BASE = 0xC000_0102;

    /** EIO: what a partly refused KVM_GET/SET_MSRS is reported as. */
    private static final int EIO = 5;

    private final int count;

    /** A list of {@code indices.length} entries for these MSRs, data zero; {@code nmsrs} is set. */
    public KvmMsrs(int... indices) {
        super(HEADER_SIZE + indices.length * ENTRY_SIZE);
        this.count = indices.length;
        buffer.putInt(NMSRS, count);
        for (int i = 0; i < count; i++) {
            buffer.putInt(entry(i) + INDEX, indices[i]);
        }
    }

    /** KVM_GET_MSRS for these MSRs; fails unless the kernel read every one. */
    public static KvmMsrs read(VcpuHandle vcpu, int... indices) {
        KvmMsrs msrs = new KvmMsrs(indices);
        int read = vcpu.ioctl(KvmIoctls.KVM_GET_MSRS, msrs.buffer);
        msrs.requireAll(read, "KVM_GET_MSRS");
        return msrs;
    }

    /** KVM_SET_MSRS; fails unless the kernel took every entry. */
    public void write(VcpuHandle vcpu) {
        requireAll(vcpu.ioctl(KvmIoctls.KVM_SET_MSRS, buffer), "KVM_SET_MSRS");
    }

    private void requireAll(int processed, String ioctl) {
        if (processed != count) {
            throw new HypervisorException(String.format("%s processed %d of %d MSRs; the first refused is 0x%x",
                    ioctl, processed, count, processed >= 0 && processed < count ? index(processed) : 0), EIO);
        }
    }

    /** {@code nmsrs}. */
    public int count() {
        return count;
    }

    public int index(int i) {
        return buffer.getInt(entry(i) + INDEX);
    }

    public long data(int i) {
        return buffer.getLong(entry(i) + DATA);
    }

    public KvmMsrs data(int i, long value) {
        buffer.putLong(entry(i) + DATA, value);
        return this;
    }

    /** The data of the entry for {@code msr}. */
    public long dataOf(int msr) {
        return data(position(msr));
    }

    public KvmMsrs dataOf(int msr, long value) {
        return data(position(msr), value);
    }

    private int position(int msr) {
        for (int i = 0; i < count; i++) {
            if (index(i) == msr) {
                return i;
            }
        }
        throw new IllegalArgumentException(String.format("MSR 0x%x is not in this list", msr));
    }

    private int entry(int i) {
        checkIndex(i, count, "MSR entry");
        return HEADER_SIZE + i * ENTRY_SIZE;
    }
}

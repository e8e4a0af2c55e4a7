package org.kvmgdb.arch.x86.kvm;

import java.nio.ByteBuffer;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;

/**
 * {@code struct kvm_cpuid2} with its flexible array of {@code struct kvm_cpuid_entry2}
 * (arch/x86/include/uapi/asm/kvm.h), for KVM_GET_SUPPORTED_CPUID and KVM_SET_CPUID2. The ioctl
 * numbers carry only the 8-byte header's size; the buffer holds {@code capacity} entries after it.
 */
public final class KvmCpuid2 {
    // struct kvm_cpuid2 { __u32 nent; __u32 padding; struct kvm_cpuid_entry2 entries[]; }
    public static final int HEADER_SIZE = 8;
    private static final int NENT = 0;
    // struct kvm_cpuid_entry2 { __u32 function, index, flags, eax, ebx, ecx, edx; __u32 padding[3]; }  40 bytes
    public static final int ENTRY_SIZE = 40;
    public static final int FUNCTION = 0, INDEX = 4, FLAGS = 8, EAX = 12, EBX = 16, ECX = 20, EDX = 24;

    /** KVM_CPUID_FLAG_SIGNIFCANT_INDEX (sic, the header's spelling): the entry depends on ECX on input. */
    public static final int KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

    /** E2BIG: the kernel has more entries than the buffer holds. */
    private static final int E2BIG = 7;
    /** KVM_MAX_CPUID_ENTRIES is 256 in arch/x86/include/asm/kvm_host.h; try more before giving up. */
    private static final int[] CAPACITIES = {256, 1024, 4096};

    private final ByteBuffer buffer;
    private final int capacity;

    /** An empty list with room for {@code capacity} entries; {@code nent} is set to the capacity. */
    public KvmCpuid2(int capacity) {
        this.capacity = capacity;
        this.buffer = VcpuHandle.buffer(HEADER_SIZE + capacity * ENTRY_SIZE);
        buffer.putInt(NENT, capacity);
    }

    /**
     * KVM_GET_SUPPORTED_CPUID on /dev/kvm, growing the buffer while the kernel answers E2BIG.
     */
    public static KvmCpuid2 supported(VmHandle vm) {
        HypervisorException last = null;
        for (int capacity : CAPACITIES) {
            KvmCpuid2 cpuid = new KvmCpuid2(capacity);
            try {
                vm.systemIoctl(KvmIoctls.KVM_GET_SUPPORTED_CPUID, cpuid.buffer);
                return cpuid;
            } catch (HypervisorException e) {
                if (e.errno() != E2BIG) {
                    throw e;
                }
                last = e;
            }
        }
        throw last;
    }

    /** KVM_SET_CPUID2 with the first {@link #count()} entries. */
    public void setOn(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_CPUID2, trimmed());
    }

    /** A buffer with exactly {@code nent} entries, so that the kernel reads no slack. */
    ByteBuffer trimmed() {
        int size = HEADER_SIZE + count() * ENTRY_SIZE;
        ByteBuffer out = VcpuHandle.buffer(size);
        ByteBuffer src = buffer.duplicate();
        src.clear().limit(size);
        out.put(src).clear();
        return out;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    public int capacity() {
        return capacity;
    }

    /** {@code nent}: the number of valid entries (set by the kernel on KVM_GET_SUPPORTED_CPUID). */
    public int count() {
        return buffer.getInt(NENT);
    }

    public KvmCpuid2 count(int nent) {
        if (nent < 0 || nent > capacity) {
            throw new IllegalArgumentException("nent " + nent + " not in 0.." + capacity);
        }
        buffer.putInt(NENT, nent);
        return this;
    }

    /** Field {@link #FUNCTION} ... {@link #EDX} of entry {@code i}. */
    public int get(int i, int field) {
        KvmStruct.checkIndex(i, count(), "cpuid entry");
        return buffer.getInt(HEADER_SIZE + i * ENTRY_SIZE + field);
    }

    public KvmCpuid2 set(int i, int field, int value) {
        KvmStruct.checkIndex(i, capacity, "cpuid entry");
        buffer.putInt(HEADER_SIZE + i * ENTRY_SIZE + field, value);
        return this;
    }
}

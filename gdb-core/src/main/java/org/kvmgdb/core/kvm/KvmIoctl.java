package org.kvmgdb.core.kvm;

import static org.kvmgdb.api.hypervisor.Ioctls.KVMIO;
import static org.kvmgdb.api.hypervisor.Ioctls.io;
import static org.kvmgdb.api.hypervisor.Ioctls.iow;

import java.util.Map;
import org.kvmgdb.api.hypervisor.KvmRunHeader;

/** The architecture-neutral KVM ioctls, capabilities and {@code kvm_run} layout, all from include/uapi/linux/kvm.h. */
final class KvmIoctl {
    private KvmIoctl() {
    }

    /** The only API version there has ever been; anything else is refused. */
    static final int KVM_API_VERSION = 12;

    // System ioctls (on the /dev/kvm fd).
    /** _IO(KVMIO, 0x00) = 0xAE00 */
    static final long KVM_GET_API_VERSION = io(KVMIO, 0x00);
    /** _IO(KVMIO, 0x01) = 0xAE01; the argument is the machine type, 0 for the default. */
    static final long KVM_CREATE_VM = io(KVMIO, 0x01);
    /** _IO(KVMIO, 0x03) = 0xAE03; also valid on a VM fd. */
    static final long KVM_CHECK_EXTENSION = io(KVMIO, 0x03);
    /** _IO(KVMIO, 0x04) = 0xAE04; the size of the vCPU fd's mmap, {@code struct kvm_run} and what follows it. */
    static final long KVM_GET_VCPU_MMAP_SIZE = io(KVMIO, 0x04);

    // VM ioctls.
    /** _IO(KVMIO, 0x41) = 0xAE41; the argument is the vCPU id. */
    static final long KVM_CREATE_VCPU = io(KVMIO, 0x41);
    /** _IOW(KVMIO, 0x46, struct kvm_userspace_memory_region) = 0x4020AE46 */
    static final long KVM_SET_USER_MEMORY_REGION = iow(KVMIO, 0x46, MemoryRegion.SIZE);

    // vCPU ioctls.
    /** _IO(KVMIO, 0x80) = 0xAE80 */
    static final long KVM_RUN = io(KVMIO, 0x80);
    /** _IOW(KVMIO, 0x8b, struct kvm_signal_mask) = 0x4004AE8B (the struct's size without its flexible array) */
    static final long KVM_SET_SIGNAL_MASK = iow(KVMIO, 0x8b, 4);
    /** _IOW(KVMIO, 0xab, struct kvm_one_reg) = 0x4010AEAB */
    static final long KVM_GET_ONE_REG = iow(KVMIO, 0xab, OneReg.SIZE);
    /** _IOW(KVMIO, 0xac, struct kvm_one_reg) = 0x4010AEAC */
    static final long KVM_SET_ONE_REG = iow(KVMIO, 0xac, OneReg.SIZE);

    // Capabilities (KVM_CAP_*).
    /** KVM_CAP_USER_MEMORY = 3: KVM_SET_USER_MEMORY_REGION exists. */
    static final int KVM_CAP_USER_MEMORY = 3;
    /** KVM_CAP_NR_VCPUS = 9: recommended maximum vCPUs. */
    static final int KVM_CAP_NR_VCPUS = 9;
    /** KVM_CAP_MAX_VCPUS = 66: hard maximum vCPUs. */
    static final int KVM_CAP_MAX_VCPUS = 66;

    /** {@code struct kvm_userspace_memory_region}. */
    static final class MemoryRegion {
        /** __u32 slot */
        static final int SLOT = 0;
        /** __u32 flags */
        static final int FLAGS = 4;
        /** __u64 guest_phys_addr */
        static final int GUEST_PHYS_ADDR = 8;
        /** __u64 memory_size, bytes */
        static final int MEMORY_SIZE = 16;
        /** __u64 userspace_addr, start of the host mapping */
        static final int USERSPACE_ADDR = 24;
        static final int SIZE = 32;

        private MemoryRegion() {
        }
    }

    /** {@code struct kvm_one_reg}. */
    static final class OneReg {
        /** __u64 id */
        static final int ID = 0;
        /** __u64 addr, a pointer to the value */
        static final int ADDR = 8;
        static final int SIZE = 16;

        private OneReg() {
        }
    }

    /** {@code struct kvm_signal_mask}: __u32 len, then len bytes of kernel sigset. */
    static final class SignalMask {
        static final int LEN = 0;
        static final int SIGSET = 4;

        private SignalMask() {
        }
    }

    /**
     * {@code struct kvm_run}, the vCPU's shared page: the exit union's members the core reads, as
     * absolute offsets (the union starts at {@link KvmRunHeader#EXIT_UNION}, where exit_reason and the
     * KVM_EXIT_* values are defined too).
     */
    static final class Run {

        /** KVM_EXIT_IO: __u8 direction (KVM_EXIT_IO_IN = 0, KVM_EXIT_IO_OUT = 1) */
        static final int IO_DIRECTION = 32;
        /** KVM_EXIT_IO: __u8 size, 1, 2 or 4 bytes per access */
        static final int IO_SIZE = 33;
        /** KVM_EXIT_IO: __u16 port */
        static final int IO_PORT = 34;
        /** KVM_EXIT_IO: __u32 count, more than 1 for rep ins/outs */
        static final int IO_COUNT = 36;
        /** KVM_EXIT_IO: __u64 data_offset, from the start of kvm_run */
        static final int IO_DATA_OFFSET = 40;
        static final int KVM_EXIT_IO_IN = 0;

        /** KVM_EXIT_MMIO: __u64 phys_addr */
        static final int MMIO_PHYS_ADDR = 32;
        /** KVM_EXIT_MMIO: __u8 data[8] */
        static final int MMIO_DATA = 40;
        /** KVM_EXIT_MMIO: __u32 len */
        static final int MMIO_LEN = 48;
        /** KVM_EXIT_MMIO: __u8 is_write */
        static final int MMIO_IS_WRITE = 52;

        /** KVM_EXIT_FAIL_ENTRY: __u64 hardware_entry_failure_reason */
        static final int FAIL_ENTRY_REASON = 32;
        /** KVM_EXIT_INTERNAL_ERROR: __u32 suberror */
        static final int INTERNAL_SUBERROR = 32;
        /** KVM_EXIT_INTERNAL_ERROR: __u32 ndata */
        static final int INTERNAL_NDATA = 36;
        /** KVM_EXIT_INTERNAL_ERROR: __u64 data[16] */
        static final int INTERNAL_DATA = 40;
        /** KVM_EXIT_SYSTEM_EVENT: __u32 type */
        static final int SYSTEM_EVENT_TYPE = 32;

        private Run() {
        }
    }

    private static final Map<Long, String> NAMES = Map.ofEntries(
            Map.entry(KVM_GET_API_VERSION, "KVM_GET_API_VERSION"),
            Map.entry(KVM_CREATE_VM, "KVM_CREATE_VM"),
            Map.entry(KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION"),
            Map.entry(KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE"),
            Map.entry(KVM_CREATE_VCPU, "KVM_CREATE_VCPU"),
            Map.entry(KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION"),
            Map.entry(KVM_RUN, "KVM_RUN"),
            Map.entry(KVM_SET_SIGNAL_MASK, "KVM_SET_SIGNAL_MASK"),
            Map.entry(KVM_GET_ONE_REG, "KVM_GET_ONE_REG"),
            Map.entry(KVM_SET_ONE_REG, "KVM_SET_ONE_REG"));

    /** A readable name for error messages; architecture ioctls show as hex. */
    static String name(long request) {
        String name = NAMES.get(request);
        return name != null ? name : String.format("0x%x", request);
    }
}

package org.kvmgdb.api.hypervisor;

/**
 * The architecture-independent part of {@code struct kvm_run} (include/uapi/linux/kvm.h), the
 * vCPU's shared page that {@link VcpuHandle#kvmRun()} views: where {@code exit_reason} and the exit
 * union are, and the {@code KVM_EXIT_*} values. The core reads the generic exits (I/O, MMIO, halt,
 * shutdown …); an architecture reads its own union members ({@code kvm_run.debug.arch}, the
 * emulation failure) at {@link #EXIT_UNION} plus offsets of its own uapi header. One definition
 * for the core and every architecture.
 */
public final class KvmRunHeader {
    /** {@code __u8 immediate_exit}, after {@code __u8 request_interrupt_window}: when set, KVM_RUN returns -EINTR at once. */
    public static final int IMMEDIATE_EXIT = 1;
    /** {@code __u32 exit_reason}, after {@code __u8 padding1[6]}. */
    public static final int EXIT_REASON = 8;
    /**
     * The exit union, after {@code ready_for_interrupt_injection, if_flag, flags} (12), {@code __u64 cr8}
     * (16) and {@code __u64 apic_base} (24).
     */
    public static final int EXIT_UNION = 32;

    /** {@code kvm_run.exit_reason} values (include/uapi/linux/kvm.h). */
    public static final int KVM_EXIT_UNKNOWN = 0;
    public static final int KVM_EXIT_EXCEPTION = 1;
    public static final int KVM_EXIT_IO = 2;
    public static final int KVM_EXIT_DEBUG = 4;
    public static final int KVM_EXIT_HLT = 5;
    public static final int KVM_EXIT_MMIO = 6;
    public static final int KVM_EXIT_SHUTDOWN = 8;
    public static final int KVM_EXIT_FAIL_ENTRY = 9;
    public static final int KVM_EXIT_INTR = 10;
    public static final int KVM_EXIT_INTERNAL_ERROR = 17;
    public static final int KVM_EXIT_SYSTEM_EVENT = 24;

    /** {@code internal.suberror} of KVM_EXIT_INTERNAL_ERROR: the instruction emulator failed. */
    public static final int KVM_INTERNAL_ERROR_EMULATION = 1;

    private KvmRunHeader() {
    }

    /** The constant's name of an exit reason, for messages; others as "exit reason N". */
    public static String exitName(int reason) {
        switch (reason) {
            case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
            case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
            case KVM_EXIT_IO: return "KVM_EXIT_IO";
            case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
            case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
            case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
            case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
            case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
            case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
            case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
            case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
            default: return "exit reason " + reason;
        }
    }
}

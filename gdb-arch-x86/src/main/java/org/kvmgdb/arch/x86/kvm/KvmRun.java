package org.kvmgdb.arch.x86.kvm;

import java.nio.ByteBuffer;
import org.kvmgdb.api.hypervisor.KvmRunHeader;

/**
 * The x86 parts of {@code struct kvm_run} (include/uapi/linux/kvm.h, x86-64 layout) that debug-exit
 * classification reads and the CR8 a register write sets, as absolute offsets into the vCPU's
 * mmap-ed {@code kvm_run}; the architecture-independent head is {@link KvmRunHeader}.
 */
public final class KvmRun {
    private KvmRun() {
    }

    // exit_reason, the exit union's offset and the KVM_EXIT_* values are KvmRunHeader's (gdb-api).
    // __u8 ready_for_interrupt_injection; __u8 if_flag; __u16 flags;   at 12
    // __u64 cr8;  in: what KVM_RUN loads into CR8 when there is no in-kernel local APIC; out: CR8
    public static final int CR8 = 16;
    private static final int UNION = KvmRunHeader.EXIT_UNION;

    // KVM_EXIT_DEBUG: struct kvm_debug_exit_arch (arch/x86/include/uapi/asm/kvm.h)
    //   { __u32 exception; __u32 pad; __u64 pc; __u64 dr6; __u64 dr7; }
    public static final int DEBUG_EXCEPTION = UNION;
    public static final int DEBUG_PC = UNION + 8;
    public static final int DEBUG_DR6 = UNION + 16;
    public static final int DEBUG_DR7 = UNION + 24;

    // KVM_EXIT_INTERNAL_ERROR: struct { __u32 suberror; __u32 ndata; __u64 data[16]; } internal;
    public static final int INTERNAL_SUBERROR = UNION;
    public static final int INTERNAL_NDATA = UNION + 4;
    public static final int INTERNAL_DATA = UNION + 8;
    // KVM_INTERNAL_ERROR_EMULATION overlays it with struct emulation_failure:
    //   { __u32 suberror; __u32 ndata; __u64 flags; union { struct { __u8 insn_size; __u8 insn_bytes[15]; }; }; }
    // i.e. data[0] = flags, data[1..2] = insn_size and the bytes fetched at RIP (arch/x86/kvm/x86.c,
    // prepare_emulation_failure_exit; the kernel pads unused bytes with 0x90).
    public static final int EMULATION_FAILURE_FLAGS = UNION + 8;
    public static final int EMULATION_FAILURE_INSN_SIZE = UNION + 16;
    public static final int EMULATION_FAILURE_INSN_BYTES = UNION + 17;
    public static final int EMULATION_FAILURE_INSN_MAX = 15;

    /** emulation_failure.flags: insn_size and insn_bytes are valid. */
    public static final long KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES = 1L;

    public static int exitReason(ByteBuffer run) {
        return run.getInt(KvmRunHeader.EXIT_REASON);
    }

    public static int debugException(ByteBuffer run) {
        return run.getInt(DEBUG_EXCEPTION);
    }

    public static long debugPc(ByteBuffer run) {
        return run.getLong(DEBUG_PC);
    }

    public static long debugDr6(ByteBuffer run) {
        return run.getLong(DEBUG_DR6);
    }

    public static long debugDr7(ByteBuffer run) {
        return run.getLong(DEBUG_DR7);
    }

    public static int internalSuberror(ByteBuffer run) {
        return run.getInt(INTERNAL_SUBERROR);
    }

    public static int internalNdata(ByteBuffer run) {
        return run.getInt(INTERNAL_NDATA);
    }

    /**
     * The instruction bytes an emulation failure carries, or an empty array when the kernel gave
     * none (older kernels, or a failure before any byte was fetched).
     */
    public static byte[] emulationFailureInstruction(ByteBuffer run) {
        if (internalSuberror(run) != KvmRunHeader.KVM_INTERNAL_ERROR_EMULATION
                || internalNdata(run) < 3 // flags + the 16 bytes of insn_size/insn_bytes
                || (run.getLong(EMULATION_FAILURE_FLAGS) & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) == 0) {
            return new byte[0];
        }
        int size = Math.min(run.get(EMULATION_FAILURE_INSN_SIZE) & 0xFF, EMULATION_FAILURE_INSN_MAX);
        byte[] insn = new byte[size];
        run.get(EMULATION_FAILURE_INSN_BYTES, insn, 0, size);
        return insn;
    }
}

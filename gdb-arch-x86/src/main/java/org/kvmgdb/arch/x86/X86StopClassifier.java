package org.kvmgdb.arch.x86;

import java.nio.ByteBuffer;
import java.util.Optional;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.DebugStop;
import org.kvmgdb.api.arch.DebugStop.Kind;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.hypervisor.KvmRunHeader;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.kvm.KvmDebugRegs;
import org.kvmgdb.arch.x86.kvm.KvmRegs;
import org.kvmgdb.arch.x86.kvm.KvmRun;
import org.kvmgdb.arch.x86.kvm.KvmVcpuEvents;
import org.tinylog.Logger;

/**
 * Debug stops from the two exit shapes x86 KVM produces.
 *
 * <h2>KVM_EXIT_DEBUG</h2>
 * {@code kvm_run.debug.arch} holds the exception vector, {@code pc} (CS base + RIP), DR6 and DR7.
 * <ul>
 * <li>Vector 3 (#BP, {@code int3} with KVM_GUESTDBG_USE_SW_BP): {@code pc} is the address of the
 *     {@code 0xCC} byte, not the one after it. The #BP is intercepted before the CPU delivers it, so
 *     RIP still points at the instruction: VMX's handle_exception_nmi sets
 *     {@code debug.arch.pc = kvm_get_linear_rip(vcpu)} and saves VM_EXIT_INSTRUCTION_LEN for a later
 *     re-injection; SVM's bp_interception uses {@code cs.base + rip} (arch/x86/kvm/vmx/vmx.c,
 *     arch/x86/kvm/svm/svm.c), and QEMU looks the breakpoint up at {@code arch_info->pc} as is
 *     (target/i386/kvm/kvm.c, kvm_handle_debug).</li>
 * <li>Vector 1 (#DB): DR6.BS means a single step, {@code pc} the next instruction; DR6.Bn means
 *     DRn matched. Whether DRn is an execute or a data slot is read from DR7's R/Wn field. The kernel
 *     fills {@code debug.arch.dr7} only on the hardware #DB intercept; when its instruction emulator
 *     finds a code breakpoint or finishes a step (kvm_vcpu_check_code_breakpoint,
 *     kvm_vcpu_do_singlestep in arch/x86/kvm/x86.c) it writes DR6 and pc only. The emulator checks
 *     code breakpoints only, so a Bn whose slot DR7 does not show as enabled is an execute breakpoint.
 *     When a data match and a step are reported together, the watchpoint wins (gdb wants it even
 *     after a {@code stepi}).</li>
 * </ul>
 *
 * <h2>KVM_EXIT_INTERNAL_ERROR, suberror KVM_INTERNAL_ERROR_EMULATION</h2>
 * Where the guest's code runs in KVM's emulator (PVM, see KVM-HERE.md), {@code int3} is not
 * emulated and ends {@code KVM_RUN} this way, with RIP at the {@code 0xCC}. The kernel puts the
 * fetched instruction bytes in {@code emulation_failure} (flags bit 0, insn_size, insn_bytes[15],
 * see {@link KvmRun}); when they start with {@code 0xCC} this is a software breakpoint at RIP
 * (read with KVM_GET_REGS; CS base is 0 in long mode). A kernel that gives no bytes is answered by
 * reading the byte at RIP through the page tables.
 */
public final class X86StopClassifier implements StopClassifier {
    static final int DB_VECTOR = 1;
    static final int BP_VECTOR = 3;
    static final byte INT3 = (byte) 0xCC;

    private final AddressTranslator translator;

    public X86StopClassifier() {
        this(new X86PageWalker());
    }

    X86StopClassifier(AddressTranslator translator) {
        this.translator = translator;
    }

    @Override
    public Optional<DebugStop> classify(VcpuHandle vcpu, int exitReason, ByteBuffer kvmRun) {
        if (exitReason == KvmRunHeader.KVM_EXIT_DEBUG) {
            return classifyDebugExit(kvmRun);
        }
        if (exitReason == KvmRunHeader.KVM_EXIT_INTERNAL_ERROR
                && KvmRun.internalSuberror(kvmRun) == KvmRunHeader.KVM_INTERNAL_ERROR_EMULATION) {
            return classifyEmulationFailure(vcpu, kvmRun);
        }
        return Optional.empty();
    }

    /** {@link #classifyDebugExit}'s SINGLE_STEP case, read from {@code kvm_run.debug.arch} without allocating. */
    @Override
    public boolean singleStepped(VcpuHandle vcpu, int exitReason, ByteBuffer kvmRun) {
        if (exitReason != KvmRunHeader.KVM_EXIT_DEBUG || KvmRun.debugException(kvmRun) != DB_VECTOR) {
            return false;
        }
        long dr6 = KvmRun.debugDr6(kvmRun);
        if ((dr6 & DebugRegisters.DR6_BS) == 0) {
            return false;
        }
        long dr7 = KvmRun.debugDr7(kvmRun);
        for (int n = 0; n < DebugRegisters.SLOTS; n++) {
            if (hit(dr6, n) && DebugRegisters.enabled(dr7, n) && DebugRegisters.rw(dr7, n) != DebugRegisters.RW_EXECUTE) {
                return false; // a data match reported with the step: the watchpoint wins
            }
        }
        return true;
    }

    static Optional<DebugStop> classifyDebugExit(ByteBuffer run) {
        int vector = KvmRun.debugException(run);
        long pc = KvmRun.debugPc(run);
        if (vector == BP_VECTOR) {
            return Optional.of(new DebugStop(Kind.SOFTWARE_BREAKPOINT, pc, -1));
        }
        if (vector != DB_VECTOR) {
            Logger.warn("KVM_EXIT_DEBUG with exception {} at 0x{} is neither #DB nor #BP", vector, Long.toHexString(pc));
            return Optional.empty();
        }
        long dr6 = KvmRun.debugDr6(run);
        long dr7 = KvmRun.debugDr7(run);
        for (int n = 0; n < DebugRegisters.SLOTS; n++) {
            if (hit(dr6, n) && DebugRegisters.enabled(dr7, n) && DebugRegisters.rw(dr7, n) != DebugRegisters.RW_EXECUTE) {
                return Optional.of(new DebugStop(Kind.WATCHPOINT, pc, n));
            }
        }
        if ((dr6 & DebugRegisters.DR6_BS) != 0) {
            return Optional.of(new DebugStop(Kind.SINGLE_STEP, pc, -1));
        }
        for (int n = 0; n < DebugRegisters.SLOTS; n++) {
            if (hit(dr6, n)) {
                return Optional.of(new DebugStop(Kind.HARDWARE_BREAKPOINT, pc, n));
            }
        }
        Logger.warn("#DB exit at 0x{} with DR6 0x{}: no step and no breakpoint condition", Long.toHexString(pc), Long.toHexString(dr6));
        return Optional.empty();
    }

    private static boolean hit(long dr6, int slot) {
        return (dr6 & (DebugRegisters.DR6_B0 << slot)) != 0;
    }

    private Optional<DebugStop> classifyEmulationFailure(VcpuHandle vcpu, ByteBuffer run) {
        byte[] insn = KvmRun.emulationFailureInstruction(run);
        if (insn.length > 0 && insn[0] != INT3) {
            return Optional.empty(); // a real emulation failure: the core reports it
        }
        long rip = KvmRegs.read(vcpu).rip();
        if (insn.length == 0 && byteAt(vcpu, rip) != (INT3 & 0xFF)) {
            return Optional.empty();
        }
        return Optional.of(new DebugStop(Kind.SOFTWARE_BREAKPOINT, rip, -1));
    }

    /** The guest byte at linear {@code address}, or -1 when it is not mapped. */
    private int byteAt(VcpuHandle vcpu, long address) {
        var memory = vcpu.vm().memory();
        return translator.translate(translator.capture(vcpu), memory, address)
                .filter(t -> memory.contains(t.physicalAddress(), 1))
                .map(t -> {
                    byte[] b = new byte[1];
                    memory.read(t.physicalAddress(), b, 0, 1);
                    return b[0] & 0xFF;
                })
                .orElse(-1);
    }

    /**
     * Delivers the trap to the guest with KVM_SET_VCPU_EVENTS, read-modify-write so that the NMI,
     * interrupt and SMM state KVM reports goes back unchanged. A software breakpoint becomes #BP
     * with RIP left at the {@code int3}: KVM injects it as a software exception with the instruction
     * length it saved at the exit, so the guest's handler sees the return address after the
     * {@code 0xCC}. A step or DRn match becomes #DB with DR6 saying why. Without
     * KVM_CAP_EXCEPTION_PAYLOAD the exception is marked injected and DR6 is set first with
     * KVM_SET_DEBUGREGS; with it (KVM_VCPUEVENT_VALID_PAYLOAD in the flags KVM returned) it is marked
     * pending and DR6 travels as the payload, as QEMU does (kvm_queue_exception).
     *
     * <p>On a host whose emulator raised the internal-error shape, the guest cannot take exceptions
     * at all (KVM-HERE.md); the event is set all the same.
     */
    @Override
    public void reinject(VcpuHandle vcpu, DebugStop stop) {
        int vector;
        long dr6Bits = 0;
        switch (stop.kind()) {
            case SOFTWARE_BREAKPOINT:
                vector = BP_VECTOR;
                break;
            case SINGLE_STEP:
                vector = DB_VECTOR;
                dr6Bits = DebugRegisters.DR6_BS;
                break;
            case HARDWARE_BREAKPOINT:
            case WATCHPOINT:
                vector = DB_VECTOR;
                dr6Bits = DebugRegisters.DR6_B0 << stop.slot();
                break;
            default:
                throw new IllegalArgumentException(String.valueOf(stop.kind()));
        }
        KvmVcpuEvents events = KvmVcpuEvents.read(vcpu);
        boolean payload = (events.flags() & KvmVcpuEvents.KVM_VCPUEVENT_VALID_PAYLOAD) != 0;
        if (vector == DB_VECTOR && !payload) {
            KvmDebugRegs debugRegs = KvmDebugRegs.read(vcpu);
            debugRegs.set(KvmDebugRegs.DR6, DebugRegisters.DR6_FIXED_1 | dr6Bits).set(KvmDebugRegs.FLAGS, 0).write(vcpu);
        }
        events.u8(KvmVcpuEvents.EXCEPTION_INJECTED, payload ? 0 : 1)
                .u8(KvmVcpuEvents.EXCEPTION_NR, vector)
                .u8(KvmVcpuEvents.EXCEPTION_HAS_ERROR_CODE, 0)
                .u8(KvmVcpuEvents.EXCEPTION_PENDING, payload ? 1 : 0)
                .errorCode(0);
        if (payload) {
            events.u8(KvmVcpuEvents.EXCEPTION_HAS_PAYLOAD, vector == DB_VECTOR ? 1 : 0)
                    .exceptionPayload(vector == DB_VECTOR ? dr6Bits : 0);
        }
        events.write(vcpu);
    }
}

package org.kvmgdb.arch.aarch64;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.DebugStop;
import org.kvmgdb.api.arch.DebugStop.Kind;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.hypervisor.KvmRunHeader;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.tinylog.Logger;

/**
 * Debug stops from arm64's {@code KVM_EXIT_DEBUG}: {@code kvm_run.debug.arch.hsr} is the ESR_EL2 of
 * the trapped debug exception, whose exception class (ESR_ELx.EC, bits [31:26]) says what it was:
 * <ul>
 * <li>BRK64 (0x3C): a {@code BRK} with KVM_GUESTDBG_USE_SW_BP; pc is the {@code BRK} itself.</li>
 * <li>Software step (0x32 from a lower EL, 0x33 same EL): pc is the next instruction.</li>
 * <li>Hardware breakpoint (0x30/0x31): pc is the instruction; the slot is the execute slot of the
 *     last applied {@link DebugControl} whose address is pc.</li>
 * <li>Watchpoint (0x34/0x35): {@code debug.arch.far} is the accessed address; the slot is the data
 *     slot whose bytes contain it, else the first whose doublewords do. The exception is taken
 *     before the access completes, so pc is the accessing instruction (AArch64 watchpoints are not
 *     steppable: gdb steps over them itself).</li>
 * </ul>
 * pc is read with ONE_REG (regs.pc); the exit does not carry it.
 */
public final class Aarch64StopClassifier implements StopClassifier {
    // struct kvm_run's exit union (KvmRunHeader.EXIT_UNION); for KVM_EXIT_DEBUG it is
    // struct kvm_debug_exit_arch (arch/arm64/include/uapi/asm/kvm.h): __u32 hsr; __u32 hsr_high; __u64 far;
    static final int OFFSET_DEBUG_HSR = KvmRunHeader.EXIT_UNION;
    static final int OFFSET_DEBUG_HSR_HIGH = KvmRunHeader.EXIT_UNION + 4;
    static final int OFFSET_DEBUG_FAR = KvmRunHeader.EXIT_UNION + 8;

    // ESR_ELx.EC values (arch/arm64/include/asm/esr.h).
    static final int EC_BREAKPT_LOW = 0x30;
    static final int EC_BREAKPT_CUR = 0x31;
    static final int EC_SOFTSTP_LOW = 0x32;
    static final int EC_SOFTSTP_CUR = 0x33;
    static final int EC_WATCHPT_LOW = 0x34;
    static final int EC_WATCHPT_CUR = 0x35;
    static final int EC_BRK64 = 0x3C;
    static final int ESR_EC_SHIFT = 26;

    // PSTATE fields (ARM DDI 0487; arch/arm64/include/uapi/asm/ptrace.h).
    static final long PSR_MODE_MASK = 0xF;
    /** M[3:0] = EL1 with SP_EL1 (EL1h). */
    static final long PSR_MODE_EL1H = 0x5;
    /** M[4] = 1: the interrupted state was AArch32. */
    static final long PSR_MODE32 = 0x10;
    static final long PSR_NZCV = 0xFL << 28;
    static final long PSR_DAIF = 0xFL << 6;

    // Offsets from VBAR_EL1 of the synchronous entry of each vector group (ARM DDI 0487, D1.10.2).
    static final long VECTOR_CURRENT_EL_SP0 = 0x000;
    static final long VECTOR_CURRENT_EL_SPX = 0x200;
    static final long VECTOR_LOWER_EL_AARCH64 = 0x400;
    static final long VECTOR_LOWER_EL_AARCH32 = 0x600;

    private final Aarch64GuestDebug guestDebug;

    public Aarch64StopClassifier(Aarch64GuestDebug guestDebug) {
        this.guestDebug = guestDebug;
    }

    @Override
    public Optional<DebugStop> classify(VcpuHandle vcpu, int exitReason, ByteBuffer kvmRun) {
        if (exitReason != KvmRunHeader.KVM_EXIT_DEBUG) {
            return Optional.empty();
        }
        int hsr = kvmRun.getInt(OFFSET_DEBUG_HSR);
        int ec = (hsr >>> ESR_EC_SHIFT) & 0x3F;
        long pc = readOneReg(vcpu, KvmCoreRegs.PC);
        switch (ec) {
            case EC_BRK64:
                return Optional.of(new DebugStop(Kind.SOFTWARE_BREAKPOINT, pc, -1));
            case EC_SOFTSTP_LOW:
            case EC_SOFTSTP_CUR:
                return Optional.of(new DebugStop(Kind.SINGLE_STEP, pc, -1));
            case EC_BREAKPT_LOW:
            case EC_BREAKPT_CUR:
                return Optional.of(new DebugStop(Kind.HARDWARE_BREAKPOINT, pc, breakpointSlot(guestDebug.applied(vcpu.index()), pc)));
            case EC_WATCHPT_LOW:
            case EC_WATCHPT_CUR: {
                long far = kvmRun.getLong(OFFSET_DEBUG_FAR);
                return Optional.of(new DebugStop(Kind.WATCHPOINT, pc, watchpointSlot(guestDebug.applied(vcpu.index()), far)));
            }
            default:
                Logger.warn("KVM_EXIT_DEBUG with ESR 0x{} (EC 0x{}) at 0x{} is not a debug exception kvmgdb knows",
                        Integer.toHexString(hsr), Integer.toHexString(ec), Long.toHexString(pc));
                return Optional.empty();
        }
    }

    /** The execute slot at {@code pc}; -1 (and a warning) when the last applied control has none there. */
    static int breakpointSlot(DebugControl control, long pc) {
        List<HardwareSlot> slots = control.slots();
        for (int i = 0; i < slots.size(); i++) {
            if (slots.get(i).kind() == HardwareSlot.Kind.EXECUTE && slots.get(i).address() == pc) {
                return i;
            }
        }
        Logger.warn("hardware breakpoint exit at 0x{} matches no execute slot", Long.toHexString(pc));
        return -1;
    }

    /**
     * The data slot containing {@code far}, else the first whose watched doublewords contain it (a
     * wide access such as {@code stp} or {@code dc zva} can report an address below the watched
     * bytes but in the same doubleword); -1 when none.
     */
    static int watchpointSlot(DebugControl control, long far) {
        List<HardwareSlot> slots = control.slots();
        for (int i = 0; i < slots.size(); i++) {
            HardwareSlot s = slots.get(i);
            if (s.kind() != HardwareSlot.Kind.EXECUTE && far - s.address() >= 0 && far - s.address() < s.length()) {
                return i;
            }
        }
        for (int i = 0; i < slots.size(); i++) {
            HardwareSlot s = slots.get(i);
            long first = s.address() & ~7L;
            long last = (s.address() + s.length() - 1) & ~7L;
            if (s.kind() != HardwareSlot.Kind.EXECUTE && (far & ~7L) >= first && (far & ~7L) <= last) {
                return i;
            }
        }
        Logger.warn("watchpoint exit for 0x{} matches no data slot", Long.toHexString(far));
        return -1;
    }

    /**
     * Takes the exception the guest would have taken without a debugger, the way the CPU enters
     * EL1 (and KVM's own enter_exception64 in arch/arm64/kvm/hyp/exception.c does): ELR_EL1 = pc
     * (the {@code BRK} itself, the next instruction after a step, the instruction of a breakpoint or
     * watchpoint), SPSR_EL1 = PSTATE, ESR_EL1 = the ESR from the exit with its EC adjusted to the
     * level the exception came from (EL2 saw every debug exception as "lower EL"), FAR_EL1 = the
     * watched address for a watchpoint, PSTATE = EL1h with DAIF set (NZCV kept), and PC = VBAR_EL1 +
     * the synchronous entry of the vector group for where the vCPU was: current EL with SP_EL0
     * (0x000), current EL with SP_ELx (0x200), lower EL in AArch64 (0x400) or AArch32 (0x600).
     */
    @Override
    public void reinject(VcpuHandle vcpu, DebugStop stop) {
        ByteBuffer run = vcpu.kvmRun();
        int hsr = run.getInt(OFFSET_DEBUG_HSR);
        long pc = readOneReg(vcpu, KvmCoreRegs.PC);
        long pstate = readOneReg(vcpu, KvmCoreRegs.PSTATE);
        long vbar = readOneReg(vcpu, Aarch64ExceptionRegs.VBAR_EL1);

        boolean fromEl1 = (pstate & PSR_MODE32) == 0 && ((pstate >>> 2) & 3) == 1;
        int esr = guestEsr(hsr, stop.kind(), fromEl1);
        long vector;
        if ((pstate & PSR_MODE32) != 0) {
            vector = VECTOR_LOWER_EL_AARCH32;
        } else if (!fromEl1) {
            vector = VECTOR_LOWER_EL_AARCH64;
        } else if ((pstate & 1) == 0) {
            vector = VECTOR_CURRENT_EL_SP0;
        } else {
            vector = VECTOR_CURRENT_EL_SPX;
        }

        writeOneReg(vcpu, KvmCoreRegs.ELR_EL1, pc);
        writeOneReg(vcpu, Aarch64ExceptionRegs.SPSR_EL1, pstate);
        writeOneReg(vcpu, Aarch64ExceptionRegs.ESR_EL1, esr & 0xFFFFFFFFL);
        if (stop.kind() == Kind.WATCHPOINT) {
            writeOneReg(vcpu, Aarch64ExceptionRegs.FAR_EL1, run.getLong(OFFSET_DEBUG_FAR));
        }
        writeOneReg(vcpu, KvmCoreRegs.PSTATE, (pstate & PSR_NZCV) | PSR_DAIF | PSR_MODE_EL1H);
        writeOneReg(vcpu, KvmCoreRegs.PC, vbar + vector);
    }

    /**
     * ESR_EL1 for the exception as the guest's EL1 takes it. The exit's hsr is used when it is of
     * the stop's class (for BRK it carries the guest's immediate); otherwise, or when the exit's
     * bytes are not a debug exit, one is built: IL = 1 (32-bit instruction) and the class of the stop.
     */
    static int guestEsr(int hsr, Kind kind, boolean fromEl1) {
        int ec = (hsr >>> ESR_EC_SHIFT) & 0x3F;
        int wanted;
        switch (kind) {
            case SOFTWARE_BREAKPOINT:
                wanted = EC_BRK64;
                break;
            case SINGLE_STEP:
                wanted = EC_SOFTSTP_LOW;
                break;
            case HARDWARE_BREAKPOINT:
                wanted = EC_BREAKPT_LOW;
                break;
            case WATCHPOINT:
                wanted = EC_WATCHPT_LOW;
                break;
            default:
                throw new IllegalArgumentException(String.valueOf(kind));
        }
        int iss = (ec & ~1) == wanted ? hsr & 0x03FFFFFF : (1 << 25); // IL (bit 25) and ISS; else IL alone
        if (wanted != EC_BRK64 && fromEl1) {
            wanted |= 1; // the _CUR class: taken from the level it is handled at
        }
        return (wanted << ESR_EC_SHIFT) | iss;
    }

    private static long readOneReg(VcpuHandle vcpu, long id) {
        ByteBuffer b = VcpuHandle.buffer(8);
        vcpu.getOneReg(id, b);
        return b.getLong(0);
    }

    private static void writeOneReg(VcpuHandle vcpu, long id, long value) {
        ByteBuffer b = VcpuHandle.buffer(8);
        b.putLong(0, value);
        vcpu.setOneReg(id, b);
    }
}

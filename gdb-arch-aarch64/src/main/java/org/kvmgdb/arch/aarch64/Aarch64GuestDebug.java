package org.kvmgdb.arch.aarch64;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.hypervisor.Ioctls;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;
import org.tinylog.Logger;

/**
 * Single step, {@code BRK} exits and the breakpoint/watchpoint registers through
 * {@code KVM_SET_GUEST_DEBUG} on arm64.
 *
 * <p>Execute slots of the {@link DebugControl} take the breakpoint registers (DBGBVRn/DBGBCRn) in
 * order; data slots take the watchpoint registers (DBGWVRn/DBGWCRn), one per aligned doubleword the
 * slot touches: a watchpoint register matches the bytes its BAS mask selects inside the doubleword
 * its WVR names, so 8 bytes at 0x1004 need two (0x1000 BAS 0xF0 and 0x1008 BAS 0x0F). How many of
 * each the host has is KVM_CAP_GUEST_DEBUG_HW_BPS/_WPS, asked once and cached; the core asks
 * {@link #fits(VmHandle, List)}, which asks the VM; {@link #fits(List)} without a VM counts, until one
 * was seen, with the architecture's minimum of two of each (ARM DDI 0487, ID_AA64DFR0_EL1.BRPs/WRPs).
 *
 * <p>The last control applied to each vCPU is kept so the stop classifier can tell which slot a
 * hardware breakpoint or watchpoint exit belongs to (kvm_run reports only the ESR and FAR).
 */
public final class Aarch64GuestDebug implements GuestDebug {
    // include/uapi/linux/kvm.h and arch/arm64/include/uapi/asm/kvm.h: kvm_guest_debug.control bits.
    static final int KVM_GUESTDBG_ENABLE = 0x00000001;
    static final int KVM_GUESTDBG_SINGLESTEP = 0x00000002;
    static final int KVM_GUESTDBG_USE_SW_BP = 1 << 16;
    static final int KVM_GUESTDBG_USE_HW = 1 << 17;

    /** arch/arm64/include/uapi/asm/kvm.h: KVM_ARM_MAX_DBG_REGS. */
    static final int KVM_ARM_MAX_DBG_REGS = 16;

    // struct kvm_guest_debug (include/uapi/linux/kvm.h): __u32 control; __u32 pad;
    // struct kvm_guest_debug_arch arch (arch/arm64/include/uapi/asm/kvm.h):
    //   __u64 dbg_bcr[16]; __u64 dbg_bvr[16]; __u64 dbg_wcr[16]; __u64 dbg_wvr[16];
    static final int OFFSET_CONTROL = 0;
    static final int OFFSET_DBG_BCR = 8;
    static final int OFFSET_DBG_BVR = OFFSET_DBG_BCR + 8 * KVM_ARM_MAX_DBG_REGS; // 136
    static final int OFFSET_DBG_WCR = OFFSET_DBG_BVR + 8 * KVM_ARM_MAX_DBG_REGS; // 264
    static final int OFFSET_DBG_WVR = OFFSET_DBG_WCR + 8 * KVM_ARM_MAX_DBG_REGS; // 392
    /** sizeof(struct kvm_guest_debug) on arm64. */
    static final int SIZE = OFFSET_DBG_WVR + 8 * KVM_ARM_MAX_DBG_REGS; // 520

    /** include/uapi/linux/kvm.h: {@code _IOW(KVMIO, 0x9b, struct kvm_guest_debug)}. */
    static final long KVM_SET_GUEST_DEBUG = Ioctls.iow(Ioctls.KVMIO, 0x9b, SIZE);

    /** include/uapi/linux/kvm.h: how many breakpoint / watchpoint registers KVM offers. */
    static final int KVM_CAP_GUEST_DEBUG_HW_BPS = 119;
    static final int KVM_CAP_GUEST_DEBUG_HW_WPS = 120;

    /** The architecture guarantees at least two of each (ID_AA64DFR0_EL1.BRPs/WRPs are count - 1 >= 1). */
    static final int ARCHITECTURAL_MINIMUM = 2;

    // DBGBCRn_EL1 / DBGWCRn_EL1 fields (ARM DDI 0487; Linux's arch/arm64/include/asm/hw_breakpoint.h
    // encodes them the same way: len << 5 | type << 3 | privilege << 1 | enabled).
    static final long CR_E = 1;
    /** PMC (BCR) / PAC (WCR) bits [2:1] = 0b11: match at EL1 and at EL0. */
    static final long CR_EL0_EL1 = 0b11L << 1;
    static final int CR_LSC_SHIFT = 3;
    static final long LSC_LOAD = 0b01, LSC_STORE = 0b10, LSC_BOTH = 0b11;
    static final int CR_BAS_SHIFT = 5;
    /** BCR.BAS = 0b1111: the whole A64 instruction at BVR (bits [8:5]). */
    static final long BCR_BAS_A64 = 0xFL << CR_BAS_SHIFT;
    /** BCR for an unlinked address-match execute breakpoint at EL0 and EL1: 0x1e7. */
    static final long BCR_EXECUTE = BCR_BAS_A64 | CR_EL0_EL1 | CR_E;

    /** PSTATE.DAIF, bits [9:6]: debug, SError, IRQ and FIQ masks. */
    static final long PSTATE_DAIF = 0xFL << 6;

    private volatile int breakpointRegisters = -1;
    private volatile int watchpointRegisters = -1;
    private final Map<Integer, DebugControl> applied = new ConcurrentHashMap<>();

    @Override
    public boolean fits(List<HardwareSlot> slots) {
        return fits(slots, countOr(breakpointRegisters), countOr(watchpointRegisters));
    }

    /** With the counts this VM's host reports (asked once, then cached), not the architectural minimum. */
    @Override
    public boolean fits(VmHandle vm, List<HardwareSlot> slots) {
        return fits(slots, breakpointRegisters(vm), watchpointRegisters(vm));
    }

    static boolean fits(List<HardwareSlot> slots, int breakpoints, int watchpoints) {
        int bps = 0;
        int wps = 0;
        for (HardwareSlot s : slots) {
            if (s.kind() == HardwareSlot.Kind.EXECUTE) {
                // BVR bits [1:0] are RES0: an A64 breakpoint is on a 4-byte aligned instruction.
                if ((s.address() & 3) != 0) {
                    return false;
                }
                bps++;
            } else {
                if (s.length() < 1) {
                    return false;
                }
                wps += doublewords(s.address(), s.length());
            }
        }
        return bps <= Math.min(breakpoints, KVM_ARM_MAX_DBG_REGS) && wps <= Math.min(watchpoints, KVM_ARM_MAX_DBG_REGS);
    }

    /** A watchpoint exception is taken before the access completes (ARM DDI 0487, D2.10.5); GDB's aarch64 steps over it. */
    @Override
    public boolean watchpointStopsBeforeAccess() {
        return true;
    }

    @Override
    public void apply(VcpuHandle vcpu, DebugControl control) {
        VmHandle vm = vcpu.vm();
        ByteBuffer dbg = encode(control, breakpointRegisters(vm), watchpointRegisters(vm));
        vcpu.ioctl(KVM_SET_GUEST_DEBUG, dbg);
        applied.put(vcpu.index(), control);
    }

    /** What {@link #apply} last programmed on vCPU {@code index}; {@link DebugControl#OFF} before that. */
    DebugControl applied(int index) {
        return applied.getOrDefault(index, DebugControl.OFF);
    }

    /** The KVM_SET_GUEST_DEBUG argument for {@code control} on a host with the given register counts. */
    static ByteBuffer encode(DebugControl control, int breakpoints, int watchpoints) {
        if (!fits(control.slots(), breakpoints, watchpoints)) {
            throw new IllegalArgumentException("arm64 with " + breakpoints + " breakpoint and " + watchpoints
                    + " watchpoint registers cannot program " + control.slots());
        }
        ByteBuffer dbg = VcpuHandle.buffer(SIZE);
        if (!control.anyEnabled()) {
            return dbg; // control 0: guest debugging off, the debug registers are the guest's again
        }
        int flags = KVM_GUESTDBG_ENABLE;
        if (control.singleStep()) {
            flags |= KVM_GUESTDBG_SINGLESTEP;
        }
        if (control.softwareBreakpoints()) {
            flags |= KVM_GUESTDBG_USE_SW_BP;
        }
        if (!control.slots().isEmpty()) {
            flags |= KVM_GUESTDBG_USE_HW;
            int bp = 0;
            int wp = 0;
            for (HardwareSlot s : control.slots()) {
                if (s.kind() == HardwareSlot.Kind.EXECUTE) {
                    dbg.putLong(OFFSET_DBG_BCR + 8 * bp, BCR_EXECUTE);
                    dbg.putLong(OFFSET_DBG_BVR + 8 * bp, s.address());
                    bp++;
                } else {
                    for (long[] piece : watchPieces(s)) {
                        dbg.putLong(OFFSET_DBG_WCR + 8 * wp, wcr(s.kind(), piece[1]));
                        dbg.putLong(OFFSET_DBG_WVR + 8 * wp, piece[0]);
                        wp++;
                    }
                }
            }
        }
        dbg.putInt(OFFSET_CONTROL, flags);
        return dbg;
    }

    /** DBGWCR for a watchpoint of {@code kind} on the bytes of {@code bas} (a mask of the doubleword's 8 bytes). */
    static long wcr(HardwareSlot.Kind kind, long bas) {
        long lsc;
        switch (kind) {
            case READ:
                lsc = LSC_LOAD;
                break;
            case WRITE:
                lsc = LSC_STORE;
                break;
            case ACCESS:
                lsc = LSC_BOTH;
                break;
            default:
                throw new IllegalArgumentException(kind + " is not a watchpoint");
        }
        return (bas << CR_BAS_SHIFT) | (lsc << CR_LSC_SHIFT) | CR_EL0_EL1 | CR_E;
    }

    /** One {address, BAS} per aligned doubleword that {@code slot}'s bytes touch, lowest first. */
    static List<long[]> watchPieces(HardwareSlot slot) {
        List<long[]> pieces = new ArrayList<>();
        long start = slot.address();
        long end = slot.address() + slot.length();
        for (long dw = start & ~7L; Long.compareUnsigned(dw, end) < 0; dw += 8) {
            long from = Math.max(0, start - dw);
            long to = Math.min(8, end - dw);
            long bas = ((1L << to) - 1) & ~((1L << from) - 1);
            pieces.add(new long[] {dw, bas});
        }
        return pieces;
    }

    /** Aligned doublewords {@code [address, address + length)} touches: the watchpoint registers it needs. */
    static int doublewords(long address, int length) {
        return (int) ((((address + length - 1) >>> 3) - (address >>> 3)) + 1);
    }

    /**
     * Masks PSTATE.DAIF for one step, so the step does not land in an interrupt handler (KVM on arm64
     * has no KVM_GUESTDBG_BLOCKIRQ), and returns what puts the guest's own mask bits back. When the
     * guest already masks all four there is nothing to do.
     *
     * <p>Restoring writes the guest's DAIF bits back only when the vCPU still has all four set
     * after the step, i.e. when the stepped instruction did not clear any itself
     * ({@code msr daifclr}, an {@code eret} to an unmasked state): those keep their new value.
     * Not covered: a stepped {@code msr daifset}, or an exception taken during the step, ends with
     * all four set and gets the guest's old bits back; an exception taken during the step also
     * saves the masked bits in SPSR_EL1.
     */
    @Override
    public Unmask maskInterruptsForStep(VcpuHandle vcpu, DebugControl control) {
        breakpointRegisters(vcpu.vm());
        long pstate = readPstate(vcpu);
        long guestDaif = pstate & PSTATE_DAIF;
        if (guestDaif == PSTATE_DAIF) {
            return Unmask.NOTHING;
        }
        writePstate(vcpu, pstate | PSTATE_DAIF);
        return v -> {
            long now = readPstate(v);
            if ((now & PSTATE_DAIF) == PSTATE_DAIF) {
                writePstate(v, (now & ~PSTATE_DAIF) | guestDaif);
            }
        };
    }

    private static long readPstate(VcpuHandle vcpu) {
        ByteBuffer b = VcpuHandle.buffer(8);
        vcpu.getOneReg(KvmCoreRegs.PSTATE, b);
        return b.getLong(0);
    }

    private static void writePstate(VcpuHandle vcpu, long value) {
        ByteBuffer b = VcpuHandle.buffer(8);
        b.putLong(0, value);
        vcpu.setOneReg(KvmCoreRegs.PSTATE, b);
    }

    private static int countOr(int asked) {
        return asked < 0 ? ARCHITECTURAL_MINIMUM : asked;
    }

    private int breakpointRegisters(VmHandle vm) {
        int n = breakpointRegisters;
        if (n < 0) {
            n = Math.max(0, vm.checkExtension(KVM_CAP_GUEST_DEBUG_HW_BPS));
            watchpointRegisters = Math.max(0, vm.checkExtension(KVM_CAP_GUEST_DEBUG_HW_WPS));
            Logger.debug("KVM_CAP_GUEST_DEBUG_HW_BPS = {}, _WPS = {}", n, watchpointRegisters);
            breakpointRegisters = n;
        }
        return n;
    }

    private int watchpointRegisters(VmHandle vm) {
        breakpointRegisters(vm);
        return watchpointRegisters;
    }
}

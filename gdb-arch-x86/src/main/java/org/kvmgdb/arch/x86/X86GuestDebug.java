package org.kvmgdb.arch.x86;

import java.util.List;
import java.util.Optional;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;
import org.kvmgdb.arch.x86.kvm.KvmGuestDebug;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.tinylog.Logger;

/**
 * Single-step, {@code int3} exits and DR0-DR3 through KVM_SET_GUEST_DEBUG.
 *
 * <p>Slot n of the {@link DebugControl} is DRn. Execute slots must be 1 byte long; data slots 1, 2,
 * 4 or 8 bytes (8 only in long mode, which is the only mode this plugin boots), aligned to their
 * length. x86 has no read-only watchpoint: a {@link HardwareSlot.Kind#READ} slot is programmed as
 * read-or-write (DR7 R/W = 11) and also triggers on writes, so the core must compare the watched
 * value and ignore hits that changed it, as gdb itself does for {@code rwatch}.
 *
 * <p>{@code blockInterrupts} maps to KVM_GUESTDBG_BLOCKIRQ when the kernel lists it in
 * KVM_CAP_SET_GUEST_DEBUG2. Without it, {@link #maskInterruptsForStep} clears RFLAGS.IF around each
 * step instead ({@link InterruptFlagMask}).
 */
public final class X86GuestDebug implements GuestDebug {
    /** KVM_CAP_SET_GUEST_DEBUG2's answer, a kernel constant: cached after the first ask. -1: not asked yet. */
    private volatile int supportedFlags = -1;
    private final InterruptFlagMask interruptFlagMask = new InterruptFlagMask(new X86PageWalker());

    @Override
    public boolean fits(List<HardwareSlot> slots) {
        if (slots.size() > DebugRegisters.SLOTS) {
            return false;
        }
        for (HardwareSlot s : slots) {
            if (!DebugRegisters.fits(s)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void apply(VcpuHandle vcpu, DebugControl control) {
        encode(control, supportedFlags(vcpu.vm())).write(vcpu);
    }

    /** KVM blocks interrupts itself where it offers KVM_GUESTDBG_BLOCKIRQ; elsewhere IF is cleared for the step. */
    @Override
    public Unmask maskInterruptsForStep(VcpuHandle vcpu, DebugControl control) {
        if ((supportedFlags(vcpu.vm()) & KvmGuestDebug.KVM_GUESTDBG_BLOCKIRQ) != 0) {
            return Unmask.NOTHING;
        }
        return interruptFlagMask.mask(vcpu);
    }

    /** The KVM_SET_GUEST_DEBUG argument for {@code control}, given the kernel's KVM_CAP_SET_GUEST_DEBUG2 flags. */
    KvmGuestDebug encode(DebugControl control, int supported) {
        if (!fits(control.slots())) {
            throw new IllegalArgumentException("x86 cannot program these hardware slots: " + control.slots());
        }
        KvmGuestDebug dbg = new KvmGuestDebug();
        if (!control.anyEnabled()) {
            return dbg; // control 0: guest debugging off, the debug registers are the guest's again
        }
        int flags = KvmGuestDebug.KVM_GUESTDBG_ENABLE;
        if (control.singleStep()) {
            flags |= KvmGuestDebug.KVM_GUESTDBG_SINGLESTEP;
            if (control.blockInterrupts() && (supported & KvmGuestDebug.KVM_GUESTDBG_BLOCKIRQ) != 0) {
                flags |= KvmGuestDebug.KVM_GUESTDBG_BLOCKIRQ;
            }
        }
        if (control.softwareBreakpoints()) {
            flags |= KvmGuestDebug.KVM_GUESTDBG_USE_SW_BP;
        }
        List<HardwareSlot> slots = control.slots();
        if (!slots.isEmpty()) {
            flags |= KvmGuestDebug.KVM_GUESTDBG_USE_HW_BP;
            for (int n = 0; n < slots.size(); n++) {
                dbg.debugreg(n, slots.get(n).address());
            }
            dbg.debugreg(7, DebugRegisters.dr7(slots));
        }
        return dbg.control(flags);
    }

    /**
     * {@code movb $1, dataAddress} (C6 /0 with ModRM 04 and SIB 25: a 32-bit absolute address, no
     * base, no index), then {@code hlt} and a jump back to it should the vCPU wake up.
     */
    @Override
    public Optional<byte[]> dataWriteProbe(long codeAddress, long dataAddress) {
        if (dataAddress < 0 || dataAddress > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the probe's data address must be below 2 GiB, was 0x" + Long.toHexString(dataAddress));
        }
        int d = (int) dataAddress;
        return Optional.of(new byte[] {
            (byte) 0xC6, 0x04, 0x25, (byte) d, (byte) (d >>> 8), (byte) (d >>> 16), (byte) (d >>> 24), 0x01, // movb $1, (d)
            (byte) 0xF4,                                                                                    // hlt
            (byte) 0xEB, (byte) 0xFD,                                                                       // jmp hlt
        });
    }

    private int supportedFlags(VmHandle vm) {
        int flags = supportedFlags;
        if (flags < 0) {
            flags = Math.max(0, vm.checkExtension(KvmIoctls.KVM_CAP_SET_GUEST_DEBUG2));
            Logger.debug("KVM_CAP_SET_GUEST_DEBUG2 = 0x{}", Integer.toHexString(flags));
            supportedFlags = flags;
        }
        return flags;
    }
}

package org.kvmgdb.api.arch;

import java.util.List;
import java.util.Optional;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;

/** Encoding of single-step and hardware breakpoints/watchpoints into the hypervisor's debug control block. */
public interface GuestDebug {

    /** Whether this set of slots can be programmed at once (count, lengths, alignment). */
    boolean fits(List<HardwareSlot> slots);

    /**
     * {@link #fits(List)} on this VM's host, whose slot counts the architecture may ask it for
     * (arm64: {@code KVM_CAP_GUEST_DEBUG_HW_BPS/_WPS}) before anything was {@link #apply applied}.
     * The core asks this one; the default ignores the VM.
     */
    default boolean fits(VmHandle vm, List<HardwareSlot> slots) {
        return fits(slots);
    }

    /**
     * Whether a data watchpoint stops the vCPU <em>before</em> the access completes (arm64), so that
     * gdb steps over the accessing instruction itself before it compares values (GDB's
     * {@code have_nonsteppable_watchpoint}); false where the stop comes after it (x86). The core's
     * single-stepped watchpoints always see a write after the instruction; on such an architecture
     * it answers gdb's step over it without running the vCPU again.
     */
    default boolean watchpointStopsBeforeAccess() {
        return false;
    }

    /** Programs the vCPU ({@code KVM_SET_GUEST_DEBUG} and whatever masking the architecture needs). */
    void apply(VcpuHandle vcpu, DebugControl control);

    /**
     * Machine code with which the core checks, once per host, whether data breakpoints fire at all
     * (on some hypervisors they never do, see KVM-HERE.md). Placed at {@code codeAddress} and run
     * from the {@link BootState} entry state with a {@link HardwareSlot.Kind#WRITE} slot of one byte
     * on {@code dataAddress}, it must write that byte once and then stop the vCPU with an exit that
     * is not a debug exit (x86: {@code hlt}). Both addresses are below 2 GiB and identity-mapped.
     *
     * @return the code, or empty when the architecture offers no probe (the core then trusts the slots)
     */
    default Optional<byte[]> dataWriteProbe(long codeAddress, long dataAddress) {
        return Optional.empty();
    }

    /**
     * Called on the vCPU's thread before each {@code KVM_RUN} of a single step whose {@code control}
     * asks for {@link DebugControl#blockInterrupts()}. Where {@link #apply} could not have the
     * hypervisor block interrupts itself (x86 without {@code KVM_GUESTDBG_BLOCKIRQ}), the
     * architecture masks them in the vCPU's own state here and returns what puts the guest's value
     * back; the core calls it after {@code KVM_RUN} returns, before anyone reads the registers.
     * The default masks nothing.
     */
    default Unmask maskInterruptsForStep(VcpuHandle vcpu, DebugControl control) {
        return Unmask.NOTHING;
    }

    /** Undoes what {@link #maskInterruptsForStep} changed. */
    @FunctionalInterface
    interface Unmask {
        Unmask NOTHING = vcpu -> {
        };

        void restore(VcpuHandle vcpu);
    }
}

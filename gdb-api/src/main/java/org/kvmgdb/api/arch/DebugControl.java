package org.kvmgdb.api.arch;

import java.util.List;

/**
 * What the core wants from the hypervisor's guest-debug block ({@code KVM_SET_GUEST_DEBUG}).
 *
 * @param singleStep          trap after one instruction
 * @param softwareBreakpoints exits on the architecture's breakpoint instruction
 * @param blockInterrupts     keep interrupts from being taken while stepping ({@code KVM_GUESTDBG_BLOCKIRQ}
 *                            where offered; the architecture falls back to masking them itself)
 * @param slots               hardware breakpoints and watchpoints, in slot order
 */
public record DebugControl(boolean singleStep, boolean softwareBreakpoints, boolean blockInterrupts, List<HardwareSlot> slots) {
    public DebugControl {
        slots = List.copyOf(slots);
    }

    /** Nothing enabled: the guest runs as if no debugger were there. */
    public static final DebugControl OFF = new DebugControl(false, false, false, List.of());

    public boolean anyEnabled() {
        return singleStep || softwareBreakpoints || !slots.isEmpty();
    }
}

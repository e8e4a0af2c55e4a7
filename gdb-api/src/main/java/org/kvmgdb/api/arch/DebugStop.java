package org.kvmgdb.api.arch;

/**
 * A {@code KVM_RUN} exit understood as a debug event.
 *
 * @param pc   where the vCPU stands now: after the instruction for a step or a watchpoint, at the
 *             breakpoint instruction for a software breakpoint, at the instruction for a hardware one
 * @param slot for {@link Kind#HARDWARE_BREAKPOINT} and {@link Kind#WATCHPOINT}, the index into
 *             {@link DebugControl#slots()} that fired; -1 otherwise
 */
public record DebugStop(Kind kind, long pc, int slot) {
    public enum Kind {
        SINGLE_STEP,
        SOFTWARE_BREAKPOINT,
        HARDWARE_BREAKPOINT,
        WATCHPOINT
    }
}

package org.kvmgdb.api.arch;

/**
 * One hardware breakpoint or watchpoint as gdb asked for it ({@code Z1}..{@code Z4}).
 *
 * @param length bytes covered; 1 for an execution breakpoint
 */
public record HardwareSlot(Kind kind, long address, int length) {
    public enum Kind {
        /** {@code Z1}: break on execution. */
        EXECUTE,
        /** {@code Z2}: write watchpoint. */
        WRITE,
        /** {@code Z3}: read watchpoint. */
        READ,
        /** {@code Z4}: access (read or write) watchpoint. */
        ACCESS
    }
}

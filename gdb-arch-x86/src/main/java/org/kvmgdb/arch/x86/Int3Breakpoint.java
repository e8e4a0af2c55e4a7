package org.kvmgdb.arch.x86;

import org.kvmgdb.api.arch.SoftwareBreakpoint;

/**
 * {@code int3} ({@code 0xCC}), the x86 software breakpoint. gdb's {@code Z0} kind is the length of
 * the breakpoint instruction, so on x86 it sends kind 1; any other kind is refused. x86 keeps
 * instruction fetch coherent with stores, so a patch needs no cache maintenance.
 */
public final class Int3Breakpoint implements SoftwareBreakpoint {
    /** The only {@code Z0} kind x86 gdb uses: one byte. */
    public static final int KIND = 1;

    static final byte INT3 = (byte) 0xCC;

    public static final Int3Breakpoint INSTANCE = new Int3Breakpoint();

    private Int3Breakpoint() {
    }

    @Override
    public byte[] instruction(int kind) {
        // A fresh array each time: the caller may keep or modify it.
        return kind == KIND ? new byte[] {INT3} : null;
    }
}

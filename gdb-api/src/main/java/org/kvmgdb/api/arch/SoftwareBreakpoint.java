package org.kvmgdb.api.arch;

import org.kvmgdb.api.hypervisor.VmHandle;

/** The software breakpoint instruction of an architecture ({@code int3}, {@code BRK #0}). */
public interface SoftwareBreakpoint {

    /**
     * The bytes to plant for gdb's breakpoint kind (the {@code kind} field of {@code Z0}), in
     * target byte order, or null when the kind is not valid for this architecture.
     */
    byte[] instruction(int kind);

    /**
     * Whether a breakpoint of {@code kind} may be planted at guest-virtual {@code address}; an
     * architecture with fixed-size aligned instructions refuses a misaligned one (AArch64: a
     * {@code Z0} not 4-byte aligned gets an error reply). The default accepts every address.
     */
    default boolean accepts(long address, int kind) {
        return true;
    }

    /**
     * Called after the core patched guest code at {@code physicalAddress} (breakpoint in or out),
     * before any vCPU runs again; an architecture whose instruction cache is not coherent with
     * host writes synchronises it here. Nothing to do on x86.
     */
    default void codePatched(VmHandle vm, long physicalAddress, int length) {
    }
}

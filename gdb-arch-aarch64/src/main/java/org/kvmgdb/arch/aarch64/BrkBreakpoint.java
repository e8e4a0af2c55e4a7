package org.kvmgdb.arch.aarch64;

import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.hypervisor.VmHandle;

/**
 * {@code BRK #0} ({@code 0xD4200000}), the AArch64 software breakpoint, as gdb plants it: kind 4
 * (the instruction length), stored little-endian as {@code 00 00 20 d4}. With
 * {@code KVM_GUESTDBG_USE_SW_BP} KVM traps it and exits with ESR_ELx.EC = BRK64.
 */
public final class BrkBreakpoint implements SoftwareBreakpoint {
    /** The only {@code Z0} kind AArch64 gdb uses: a 4-byte A64 instruction. */
    public static final int KIND = 4;

    /** {@code BRK #0}: 0xD4200000, imm16 = 0, in little-endian byte order. */
    static final byte[] BRK_0 = {0x00, 0x00, 0x20, (byte) 0xD4};

    public static final BrkBreakpoint INSTANCE = new BrkBreakpoint();

    private BrkBreakpoint() {
    }

    @Override
    public byte[] instruction(int kind) {
        // A fresh copy each time: the caller may keep or modify it.
        return kind == KIND ? BRK_0.clone() : null;
    }

    /** A64 instructions are 4 bytes, 4-byte aligned: a {@code Z0} at any other address is refused. */
    @Override
    public boolean accepts(long address, int kind) {
        return kind == KIND && (address & 3) == 0;
    }

    /**
     * AArch64 does not keep instruction fetch coherent with data stores: after the host writes an
     * instruction into guest memory, the data cache has to be cleaned and the instruction cache
     * invalidated for those bytes (what libgcc's {@code __clear_cache} does) before a vCPU may
     * execute them, or it can still run the old instruction. The VM handle owns the host mapping,
     * so it does the maintenance ({@link VmHandle#syncInstructionCache}).
     */
    @Override
    public void codePatched(VmHandle vm, long physicalAddress, int length) {
        vm.syncInstructionCache(physicalAddress, length);
    }
}

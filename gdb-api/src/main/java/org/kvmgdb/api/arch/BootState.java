package org.kvmgdb.api.arch;

import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/** The CPU state and boot structures that {@code kvmgdb run GUEST.elf} promises a guest. */
public interface BootState {

    /**
     * Writes what the architecture needs in the reserved low memory (page tables, descriptor
     * tables), once per VM before any vCPU is booted.
     */
    void prepareMemory(PhysicalMemory memory, BootParameters parameters);

    /** Sets one vCPU's registers (and any per-vCPU init the hypervisor needs) for the guest ABI. */
    void boot(VcpuHandle vcpu, BootParameters parameters);

    /**
     * Where RAM and the devices are. The default is {@link Platform#PC}, what every architecture got
     * before this method existed.
     */
    default Platform platform() {
        return Platform.PC;
    }

    /**
     * @param entryPoint    ELF entry point, where every vCPU starts
     * @param vcpuCount     number of vCPUs
     * @param ramSize       bytes of RAM at {@link Platform#ramBase()}
     * @param reservedBytes the bytes at the start of RAM the VMM keeps for itself (boot structures go there)
     */
    record BootParameters(long entryPoint, int vcpuCount, long ramSize, long reservedBytes) {
    }
}

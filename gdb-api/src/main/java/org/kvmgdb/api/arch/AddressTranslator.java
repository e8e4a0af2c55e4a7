package org.kvmgdb.api.arch;

import java.util.Optional;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * Virtual to physical translation by walking the guest's page tables in software (never only
 * {@code KVM_TRANSLATE}, which is empty on some hosts).
 */
public interface AddressTranslator {

    /** The paging state of a vCPU (its control registers), read once for a series of translations. */
    PagingState capture(VcpuHandle vcpu);

    /** Translates one address; empty when it is not mapped. */
    Optional<Translation> translate(PagingState state, PhysicalMemory memory, long virtualAddress);

    /** Architecture-specific snapshot of the registers that define the address space. */
    interface PagingState {
    }

    /**
     * @param physicalAddress where {@code virtualAddress} lands
     * @param pageSize        size of the mapping page; the translation holds up to its end
     */
    record Translation(long physicalAddress, long pageSize) {
        /** Bytes from the translated address to the end of its page. */
        public long bytesToPageEnd() {
            return pageSize - (physicalAddress & (pageSize - 1));
        }
    }
}

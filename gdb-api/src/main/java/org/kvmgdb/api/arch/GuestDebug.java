package org.kvmgdb.api.arch;

import java.util.List;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/** Encoding of single-step and hardware breakpoints/watchpoints into the hypervisor's debug control block. */
public interface GuestDebug {

    /** Whether this set of slots can be programmed at once (count, lengths, alignment). */
    boolean fits(List<HardwareSlot> slots);

    /** Programs the vCPU ({@code KVM_SET_GUEST_DEBUG} and whatever masking the architecture needs). */
    void apply(VcpuHandle vcpu, DebugControl control);
}

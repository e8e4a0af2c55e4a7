package org.kvmgdb.api.arch;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * Reads and writes a stopped vCPU's registers in the {@code g} packet's binary layout of the
 * architecture's {@link TargetDescription} (target byte order).
 */
public interface RegisterAccess {

    /** Every register, {@code targetDescription().gPacketSize()} bytes. */
    byte[] readAll(VcpuHandle vcpu);

    /** Writes every register from {@code g}, which has {@code gPacketSize()} bytes. */
    void writeAll(VcpuHandle vcpu, byte[] g);

    /** The program counter. */
    long programCounter(VcpuHandle vcpu);

    void setProgramCounter(VcpuHandle vcpu, long pc);
}

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

    /**
     * One register's bytes ({@code p}, and the registers a stop reply expedites). {@code layout} is
     * the architecture's {@link TargetDescription}, in which {@code regnum} is numbered. The default
     * reads every register; an architecture overrides it to touch only the hypervisor state that
     * one register lives in.
     */
    default byte[] readRegister(VcpuHandle vcpu, TargetDescription layout, int regnum) {
        byte[] all = readAll(vcpu);
        byte[] value = new byte[layout.register(regnum).byteSize()];
        System.arraycopy(all, layout.offsetOf(regnum), value, 0, value.length);
        return value;
    }

    /**
     * Several registers at once, in the order of {@code regnums}: the ones a stop reply expedites.
     * The default reads them one by one; an architecture overrides it to read each hypervisor struct
     * they live in once.
     */
    default byte[][] readRegisters(VcpuHandle vcpu, TargetDescription layout, int[] regnums) {
        byte[][] values = new byte[regnums.length][];
        for (int i = 0; i < regnums.length; i++) {
            values[i] = readRegister(vcpu, layout, regnums[i]);
        }
        return values;
    }

    /**
     * The vCPU ioctls, pure reads ({@code _IOR}) of register state, whose answers stay the same while
     * the vCPU is stopped and nothing is written to it. The core may then answer repeats of them
     * within one stop from the first answer (one KVM_GET_REGS per stop instead of one per reader:
     * stop classifier, stop reply, thread list, resume). It drops the answers whenever the vCPU
     * runs and on every vCPU ioctl that is not a pure read, so writes need not care. Default: none.
     */
    default long[] cacheableReads() {
        return new long[0];
    }

    /**
     * Writes one register ({@code P}); {@code value} has the register's size. The default reads every
     * register and writes them all back with this one changed.
     */
    default void writeRegister(VcpuHandle vcpu, TargetDescription layout, int regnum, byte[] value) {
        byte[] all = readAll(vcpu);
        System.arraycopy(value, 0, all, layout.offsetOf(regnum), value.length);
        writeAll(vcpu, all);
    }
}

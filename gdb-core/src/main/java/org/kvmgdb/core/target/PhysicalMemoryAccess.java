package org.kvmgdb.core.target;

/**
 * Guest-physical memory, addressed directly, for QEMU's {@code Qqemu.PhyMemMode:1} and
 * {@code monitor phys on}: while gdb asks for it, {@code m}, {@code M} and {@code X} use these
 * instead of the virtual-memory methods of {@link DebugTarget}. Called like them: only while every
 * thread is stopped, from the session's thread.
 */
public interface PhysicalMemoryAccess {

    /**
     * Reads up to {@code length} bytes at guest-physical {@code address}; stops at the end of RAM
     * and returns how many were read (0 when {@code address} is outside RAM). Never shows the
     * breakpoint instructions the target itself inserted.
     */
    int readPhysicalMemory(long address, byte[] buffer, int length) throws TargetException;

    /**
     * Writes all of {@code data} at guest-physical {@code address}, or nothing when it does not fit
     * in RAM. Bytes under an inserted breakpoint become the breakpoint's saved original.
     */
    void writePhysicalMemory(long address, byte[] data) throws TargetException;
}

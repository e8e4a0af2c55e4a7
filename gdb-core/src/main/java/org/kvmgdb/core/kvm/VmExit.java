package org.kvmgdb.core.kvm;

/**
 * How a VM ended.
 *
 * @param kind        what ended it
 * @param status      the process exit status the launcher uses: for the exit port {@code (v << 1) | 1}
 *                    like QEMU's {@code isa-debug-exit}; {@link #FAILED_STATUS} for a CPU failure;
 *                    {@link #KILLED_STATUS} when a debugger killed it
 * @param gdbSignal   for an ending that is not the guest's choice, the GDB signal number a debugger
 *                    is told the guest terminated with; 0 for the exit port
 * @param description one line for the log and the user
 */
public record VmExit(Kind kind, int status, int gdbSignal, String description) {

    /** Status when the VM ended on a CPU failure (shutdown, failed entry, emulation error). Even, so no exit-port value can produce it. */
    public static final int FAILED_STATUS = 4;
    /** Status when a debugger killed the guest ({@code k}): 128 + SIGKILL, as a shell reports it. */
    public static final int KILLED_STATUS = 137;

    /** GDB signal numbers (gdb/signals.def) for the {@code X} stop reply. */
    static final int GDB_SIGILL = 4, GDB_SIGABRT = 6, GDB_SIGKILL = 9, GDB_SIGSEGV = 11;

    public enum Kind {
        /** The guest wrote to the exit port. */
        EXIT_PORT,
        /** The vCPU shut down (x86 triple fault: KVM_EXIT_SHUTDOWN). */
        SHUTDOWN,
        /** KVM could not run the vCPU: failed entry, internal error, an exit the VMM does not know. */
        FAILED,
        /** A debugger ended the guest. */
        KILLED
    }

    /** The guest wrote {@code value} to the exit port. */
    static VmExit exitPort(long value) {
        int status = (int) ((value << 1) | 1);
        return new VmExit(Kind.EXIT_PORT, status, 0, "guest wrote 0x" + Long.toHexString(value) + " to the exit port: exit status " + status);
    }

    static VmExit shutdown(String description) {
        return new VmExit(Kind.SHUTDOWN, FAILED_STATUS, GDB_SIGSEGV, description);
    }

    static VmExit failed(String description, int gdbSignal) {
        return new VmExit(Kind.FAILED, FAILED_STATUS, gdbSignal, description);
    }

    static VmExit killed() {
        return new VmExit(Kind.KILLED, KILLED_STATUS, GDB_SIGKILL, "guest killed by the debugger");
    }

    /** Whether the guest ended itself through the exit port (as opposed to failing or being killed). */
    public boolean byGuest() {
        return kind == Kind.EXIT_PORT;
    }
}

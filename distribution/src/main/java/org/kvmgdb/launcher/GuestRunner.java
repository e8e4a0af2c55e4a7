package org.kvmgdb.launcher;

/**
 * What {@code kvmgdb run} and {@code kvmgdb demo} hand a validated command line to. The command
 * classes only parse and validate; starting a VM happens behind this interface
 * ({@link KvmGuestRunner}), so the parsing is tested without KVM.
 */
public interface GuestRunner {

    /** Starts the guest, serves gdb if asked, and returns the process exit status. */
    int runGuest(RunConfiguration configuration);

    /** Starts the bundled demo guest (and gdb with {@code --attach}); returns the exit status. */
    int runDemo(DemoConfiguration configuration);
}

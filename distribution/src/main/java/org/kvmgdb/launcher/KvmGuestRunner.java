package org.kvmgdb.launcher;

/**
 * Runs guests on KVM. Not yet: the VMM arrives with issue 3, and this is where it is wired in.
 */
public final class KvmGuestRunner implements GuestRunner {

    @Override
    public int runGuest(RunConfiguration configuration) {
        System.err.println("kvmgdb: running guests arrives with issue 3");
        return ExitStatus.FAILURE;
    }

    @Override
    public int runDemo(DemoConfiguration configuration) {
        System.err.println("kvmgdb: the demo guest arrives with issue 3");
        return ExitStatus.FAILURE;
    }
}

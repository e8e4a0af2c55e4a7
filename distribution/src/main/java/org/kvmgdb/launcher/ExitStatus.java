package org.kvmgdb.launcher;

/** The launcher's own exit statuses (DESIGN.md, "The command line"); a guest's exit-port value is not among them. */
public final class ExitStatus {
    public static final int OK = 0;
    /** Something went wrong that is not the user's command line: a broken installation, an internal error. */
    public static final int FAILURE = 1;
    /** A usage error: bad option, bad value, missing guest file. */
    public static final int USAGE = 2;
    /** KVM cannot be used (no /dev/kvm, no permission). */
    public static final int KVM_UNAVAILABLE = 3;

    private ExitStatus() {
    }
}

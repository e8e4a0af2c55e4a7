package org.kvmgdb.core.target;

/**
 * A request the target cannot serve; the session answers {@code Exx} with {@link #errno()} and
 * goes on. Never ends a session.
 */
public class TargetException extends Exception {
    /** Linux errno values gdb understands in {@code Exx} replies. */
    public static final int EPERM = 1, EIO = 5, EFAULT = 14, EINVAL = 22, ENOSPC = 28;

    private final int errno;

    public TargetException(int errno, String message) {
        super(message);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}

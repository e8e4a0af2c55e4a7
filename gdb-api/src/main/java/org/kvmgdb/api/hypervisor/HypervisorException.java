package org.kvmgdb.api.hypervisor;

/** A hypervisor call failed. {@link #errno()} is the kernel's error number (0 when not from a syscall). */
public class HypervisorException extends RuntimeException {
    private final int errno;

    public HypervisorException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}

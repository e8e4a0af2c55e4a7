package org.kvmgdb.core.kvm;

import org.kvmgdb.api.hypervisor.HypervisorException;

/** A system call the VMM made failed; {@link #errno()} says why and {@link #call()} names the call. */
public class KvmException extends HypervisorException {
    private final String call;

    public KvmException(String call, int errno, String message) {
        super(message, errno);
        this.call = call;
    }

    /** The failed call, e.g. {@code "ioctl(KVM_RUN)"}. */
    public String call() {
        return call;
    }
}

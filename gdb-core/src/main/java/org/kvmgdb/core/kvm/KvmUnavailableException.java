package org.kvmgdb.core.kvm;

/**
 * KVM cannot be used on this host: {@code /dev/kvm} is missing, not accessible, or speaks an API
 * this VMM does not. The message is one line saying which, and what to do; the launcher prints it
 * and exits with status 3.
 */
public final class KvmUnavailableException extends KvmException {

    /** Why KVM is unusable. */
    public enum Reason {
        /** No {@code /dev/kvm}: no KVM module, or a container without the device. */
        MISSING_DEVICE,
        /** {@code /dev/kvm} exists but this user may not open it. */
        PERMISSION_DENIED,
        /** {@code KVM_GET_API_VERSION} is not 12. */
        WRONG_API_VERSION,
        /** Opening failed for another reason. */
        OTHER
    }

    private final Reason reason;

    public KvmUnavailableException(Reason reason, int errno, String message) {
        super("open(/dev/kvm)", errno, message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}

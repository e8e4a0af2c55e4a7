package org.kvmgdb.core.kvm;

import java.util.LinkedHashMap;
import java.util.Map;
import org.kvmgdb.api.hypervisor.KvmRunHeader;

/**
 * One vCPU's {@code KVM_RUN} exits by reason and the time spent inside {@code KVM_RUN}, for
 * {@code monitor stats}. Written only by the vCPU's own thread, around each {@code KVM_RUN}; read
 * while the vCPU is stopped, after the hand-over under {@link Vm#lock} that stopping it takes, so
 * plain fields suffice.
 */
final class ExitCounters {
    /** {@code kvm_run.exit_reason} values are small (KVM_EXIT_* in include/uapi/linux/kvm.h end below 64). */
    private static final int REASONS = 64;

    private final long[] byReason = new long[REASONS];
    private long other;
    private long interrupted;
    private long nanosInGuest;

    /** One {@code KVM_RUN}: {@code reason} is its exit, or -1 when a signal ended it first. */
    void count(int reason, long nanos) {
        nanosInGuest += nanos;
        if (reason < 0) {
            interrupted++;
        } else if (reason < REASONS) {
            byReason[reason]++;
        } else {
            other++;
        }
    }

    /** The reasons seen, by name, in reason order. */
    Map<String, Long> byReason() {
        Map<String, Long> named = new LinkedHashMap<>();
        for (int r = 0; r < REASONS; r++) {
            if (byReason[r] > 0) {
                named.put(KvmRunHeader.exitName(r), byReason[r]);
            }
        }
        if (other > 0) {
            named.put("other", other);
        }
        return named;
    }

    long interrupted() {
        return interrupted;
    }

    long nanosInGuest() {
        return nanosInGuest;
    }
}

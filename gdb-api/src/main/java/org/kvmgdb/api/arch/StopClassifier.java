package org.kvmgdb.api.arch;

import java.nio.ByteBuffer;
import java.util.Optional;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/** Turns {@code KVM_RUN} exits into debug stops. */
public interface StopClassifier {

    /**
     * @param exitReason {@code kvm_run.exit_reason}
     * @param kvmRun     the vCPU's {@code struct kvm_run}
     * @return the debug event this exit is, or empty when it is not one (the core handles it as I/O,
     *     halt, error, ...)
     */
    Optional<DebugStop> classify(VcpuHandle vcpu, int exitReason, ByteBuffer kvmRun);

    /**
     * Whether this exit is a completed single step and nothing else: what {@link #classify} reports
     * as {@link DebugStop.Kind#SINGLE_STEP}. The core asks this after every step of a stepped
     * watchpoint, so an architecture should answer it from {@code kvm_run} alone, without
     * allocating; the default asks {@link #classify}.
     */
    default boolean singleStepped(VcpuHandle vcpu, int exitReason, ByteBuffer kvmRun) {
        Optional<DebugStop> stop = classify(vcpu, exitReason, kvmRun);
        return stop.isPresent() && stop.get().kind() == DebugStop.Kind.SINGLE_STEP;
    }

    /**
     * Gives a trap the guest raised itself (its own breakpoint instruction, a debug exception that is
     * not ours) back to the guest, as if no debugger were attached.
     */
    void reinject(VcpuHandle vcpu, DebugStop stop);
}

package org.kvmgdb.core.kvm;

import org.kvmgdb.api.arch.DebugStop;

/** Why a vCPU thread stopped running its guest and came back for orders. */
sealed interface Outcome permits Outcome.Kicked, Outcome.Halted, Outcome.Debug, Outcome.Watched, Outcome.Ended {

    /** It was asked to stop ({@link VcpuRunner#kick}). */
    record Kicked() implements Outcome {
    }

    /** It was stepping and executed {@code hlt} (or was asked to step while halted); it stays halted. */
    record Halted() implements Outcome {
    }

    /** A debug exit, as the architecture's stop classifier understood it. */
    record Debug(DebugStop stop) implements Outcome {
    }

    /**
     * This vCPU changed a stepped watchpoint's bytes in the instruction that ended at {@code pc}
     * (-1 when a signal ended that {@code KVM_RUN} before the step reported its pc).
     */
    record Watched(Watchpoints.Watch watch, long pc) implements Outcome {
    }

    /** The VM is over: the exit port, or a failure the VM cannot go on from. */
    record Ended(VmExit exit) implements Outcome {
    }
}

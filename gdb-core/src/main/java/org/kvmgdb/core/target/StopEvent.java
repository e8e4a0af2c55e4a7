package org.kvmgdb.core.target;

/** Why a target stopped: the content of a stop reply ({@code T}, {@code W}, {@code X}). */
public sealed interface StopEvent permits StopEvent.Signal, StopEvent.Exited, StopEvent.Terminated {

    /** GDB's signal numbers (gdb/signals.def), which the remote protocol uses. */
    int SIGINT = 2;
    int SIGTRAP = 5;

    /**
     * A thread stopped with a signal ({@code T}).
     *
     * @param thread the thread that caused the stop
     * @param reason why, for the stop reply's {@code swbreak}/{@code hwbreak}/{@code watch} field
     */
    record Signal(int thread, int signal, Reason reason) implements StopEvent {
    }

    /** The guest ended with an exit status ({@code W}). */
    record Exited(int status) implements StopEvent {
    }

    /** The guest was ended by a signal ({@code X}). */
    record Terminated(int signal) implements StopEvent {
    }

    /** The cause within a {@link Signal} stop. */
    sealed interface Reason permits Plain, SoftwareBreak, HardwareBreak, Watch {
    }

    /** Nothing more to say: a step finished, an interrupt, the stop before the first instruction. */
    record Plain() implements Reason {
    }

    record SoftwareBreak() implements Reason {
    }

    record HardwareBreak() implements Reason {
    }

    /** A watchpoint fired on {@code address}. */
    record Watch(BreakpointType type, long address) implements Reason {
    }
}

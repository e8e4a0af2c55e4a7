package org.kvmgdb.core.target;

import java.util.Map;

/**
 * How each thread resumes ({@code c}, {@code s}, {@code vCont}). Threads not named in
 * {@code perThread} take {@code others}; {@code null} for {@code others} leaves them stopped
 * (gdb's scheduler-locking).
 */
public record ResumeRequest(Map<Integer, Action> perThread, Action others) {
    public ResumeRequest {
        perThread = Map.copyOf(perThread);
    }

    public static ResumeRequest all(Action action) {
        return new ResumeRequest(Map.of(), action);
    }

    /** The action for {@code thread}, or null when it stays stopped. */
    public Action actionFor(int thread) {
        return perThread.getOrDefault(thread, others);
    }

    /** One thread's action. {@code signal} is the signal gdb asks to deliver (0 for none). */
    public sealed interface Action permits Continue, Step, RangeStep {
        int signal();
    }

    public record Continue(int signal) implements Action {
    }

    public record Step(int signal) implements Action {
    }

    /** {@code vCont;r START,END}: step while the pc stays in {@code [start, end)}. */
    public record RangeStep(long start, long end) implements Action {
        @Override
        public int signal() {
            return 0;
        }

        /** Whether {@code pc} is inside {@code [start, end)} (unsigned: kernel addresses are "negative"). */
        public boolean contains(long pc) {
            return Long.compareUnsigned(pc, start) >= 0 && Long.compareUnsigned(pc, end) < 0;
        }
    }
}

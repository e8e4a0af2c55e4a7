package org.kvmgdb.core.session;

import org.kvmgdb.core.protocol.WireEvent;
import org.kvmgdb.core.target.StopEvent;

/** What the session handles, from the reader thread, the target or {@code close()}, on the thread that posts it. */
sealed interface SessionEvent {

    record FromGdb(WireEvent event) implements SessionEvent {
    }

    /** The target's one answer to a resume. */
    record Stopped(StopEvent event) implements SessionEvent {
    }

    /** EOF or a read error: the debugger is gone. */
    record ConnectionLost(String why) implements SessionEvent {
    }

    /** {@link DebugSession#close()} from another thread. */
    record CloseRequested() implements SessionEvent {
    }
}

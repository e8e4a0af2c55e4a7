package org.kvmgdb.core.monitor;

import org.kvmgdb.core.target.DebugTarget;

/** What a command sees of the session that runs it. Session thread only, every thread stopped. */
public interface MonitorContext {

    DebugTarget target();

    /** The thread gdb has selected ({@code Hg}, else the one that stopped last). */
    int thread();

    /** Whether {@code m}, {@code M} and {@code X} address guest-physical memory. */
    boolean physicalMode();

    void setPhysicalMode(boolean on);

    /** This session's packet and time counters. */
    SessionStatistics statistics();
}

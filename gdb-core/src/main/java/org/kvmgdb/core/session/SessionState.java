package org.kvmgdb.core.session;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.kvmgdb.core.monitor.SessionStatistics;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.protocol.ThreadPackets.ThreadId;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/** What the handlers share: the target, what gdb negotiated, the selected threads. Used only under the session's lock. */
final class SessionState {
    final DebugTarget target;
    final ExpeditedRegisters expedited;

    /** gdb said {@code swbreak+} / {@code hwbreak+}: it understands these stop reasons. */
    boolean swbreak;
    boolean hwbreak;

    /** The thread of the last stop: "the current thread" when gdb selected none. */
    int stopThread;
    /** {@code Hg}: the thread for {@code g G p P m M X}; 0 when gdb said any or all. */
    int generalThread;
    /** {@code Hc}: the thread legacy {@code c}/{@code s} act on; 0 when gdb said any or all. */
    int continueThread;

    /**
     * LLDB's {@code QListThreadsInStopReply}: {@code T} stop replies list every thread
     * ({@code threads:1,2;}) and name the stopped one ({@code hexname:}, which LLDB shows in
     * {@code thread list}). Only LLDB sends it, so gdb's stop replies never carry these keys.
     */
    boolean listThreadsInStopReply;

    /** The last stop reported, for LLDB's {@code qThreadStopInfo}; null before the first. */
    StopEvent lastStop;

    /** {@code Qqemu.PhyMemMode:1} or {@code monitor phys on}: {@code m M X} address guest-physical memory. */
    boolean physicalMode;

    /** Packets and time, for {@code monitor stats}. */
    final SessionStatistics statistics = new SessionStatistics();

    SessionState(DebugTarget target) {
        this.target = target;
        this.expedited = new ExpeditedRegisters(target);
        List<Integer> threads = target.threads();
        stopThread = threads.isEmpty() ? 1 : threads.get(0);
    }

    /** Remembers a stop; gdb takes the thread in a stop reply as its new general thread, and so do we. */
    void stopped(StopEvent event) {
        lastStop = event;
        if (event instanceof StopEvent.Signal s) {
            stopThread = s.thread();
            generalThread = s.thread();
        }
    }

    /** The stop reply for {@code event}, with the stopped thread's expedited registers in a {@code T}. */
    String stopReply(StopEvent event) {
        Map<Integer, byte[]> registers = event instanceof StopEvent.Signal s ? expedited.read(s.thread()) : Map.of();
        String reply = Replies.stop(event, swbreak, hwbreak, registers);
        if (listThreadsInStopReply && event instanceof StopEvent.Signal) {
            reply += "threads:" + target.threads().stream().map(Hex::number).collect(Collectors.joining(",")) + ";"
                    + "hexname:" + Hex.encodeText(target.threadName(((StopEvent.Signal) event).thread())) + ";";
        }
        return reply;
    }

    int generalThread() {
        return generalThread > 0 ? generalThread : stopThread;
    }

    int continueThread() {
        return continueThread > 0 ? continueThread : stopThread;
    }

    boolean alive(int thread) {
        return target.threads().contains(thread);
    }

    /**
     * A thread id that must name a live thread, or any/all.
     *
     * @return the thread, or 0 for any/all
     */
    int select(ThreadId id) throws TargetException {
        if (!id.isSpecific()) {
            return 0;
        }
        if (id.value() > Integer.MAX_VALUE || !alive((int) id.value())) {
            throw new TargetException(TargetException.EINVAL, "no thread " + id.value());
        }
        return (int) id.value();
    }
}

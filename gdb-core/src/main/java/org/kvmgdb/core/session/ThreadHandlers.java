package org.kvmgdb.core.session;

import java.util.stream.Collectors;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.protocol.ThreadPackets.Attached;
import org.kvmgdb.core.protocol.ThreadPackets.CurrentThread;
import org.kvmgdb.core.protocol.ThreadPackets.SetThread;
import org.kvmgdb.core.protocol.ThreadPackets.ThreadAlive;
import org.kvmgdb.core.protocol.ThreadPackets.ThreadExtraInfo;
import org.kvmgdb.core.protocol.ThreadPackets.ThreadInfoFirst;
import org.kvmgdb.core.protocol.ThreadPackets.ThreadInfoNext;
import org.kvmgdb.core.target.TargetException;

/** {@code H T qC qfThreadInfo qsThreadInfo qThreadExtraInfo qAttached}: every vCPU is a thread. */
final class ThreadHandlers {
    private final SessionState state;

    ThreadHandlers(SessionState state) {
        this.state = state;
    }

    void register(HandlerTable table) {
        table.on(SetThread.class, this::setThread);
        table.on(ThreadAlive.class, this::threadAlive);
        table.on(CurrentThread.class, c -> Outcome.reply("QC" + Hex.number(state.generalThread())));
        // All threads fit in the first answer; the second says the list is over.
        table.on(ThreadInfoFirst.class, c -> Outcome.reply(
                "m" + state.target.threads().stream().map(Hex::number).collect(Collectors.joining(","))));
        table.on(ThreadInfoNext.class, c -> Outcome.reply("l"));
        table.on(ThreadExtraInfo.class, this::extraInfo);
        // We never start the guest for gdb: it was there before, so quitting gdb should detach, not kill.
        table.on(Attached.class, c -> Outcome.reply("1"));
    }

    private Outcome setThread(SetThread c) throws TargetException {
        int thread = state.select(c.thread());
        if (c.operation() == 'g') {
            state.generalThread = thread;
        } else {
            state.continueThread = thread;
        }
        return Outcome.reply(Replies.OK);
    }

    private Outcome threadAlive(ThreadAlive c) throws TargetException {
        if (!c.thread().isSpecific()) {
            throw new TargetException(TargetException.EINVAL, "T needs one thread");
        }
        state.select(c.thread());
        return Outcome.reply(Replies.OK);
    }

    /**
     * gdb shows this in parentheses after the thread in {@code info threads}. We put the thread's
     * name first: without {@code qXfer:threads:read} this is gdb's only way to see it.
     */
    private Outcome extraInfo(ThreadExtraInfo c) throws TargetException {
        int thread = state.select(c.thread());
        if (thread == 0) {
            throw new TargetException(TargetException.EINVAL, "qThreadExtraInfo needs one thread");
        }
        String name = state.target.threadName(thread);
        String extra = state.target.threadExtraInfo(thread);
        String text = extra == null || extra.isEmpty() ? name : name + ", " + extra;
        return Outcome.reply(Hex.encodeText(text));
    }
}

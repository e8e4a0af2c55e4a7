package org.kvmgdb.core.session;

import java.util.Map;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.protocol.LldbPackets.HostInfo;
import org.kvmgdb.core.protocol.LldbPackets.ListThreadsInStopReply;
import org.kvmgdb.core.protocol.LldbPackets.ProcessInfo;
import org.kvmgdb.core.protocol.LldbPackets.ThreadStopInfo;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/**
 * What LLDB asks beyond gdb's packets and we answer: {@code qHostInfo}, {@code qProcessInfo},
 * {@code QListThreadsInStopReply} and {@code qThreadStopInfo} (LLDB's "GDB Remote Protocol
 * Extensions"). LLDB takes its register layout from {@code target.xml}, as gdb does: lldb-16 reads
 * it when {@code qSupported} offers {@code qXfer:features:read+} and then asks no
 * {@code qRegisterInfoN}, which would get the empty reply. So do its other queries
 * ({@code QThreadSuffixSupported}, {@code jThreadsInfo}, {@code qMemoryRegionInfo}, {@code x}, ...).
 */
final class LldbHandlers {
    /**
     * A guest's machine as LLDB names it. The triple is LLVM's (arch-vendor-os): a bare-metal guest
     * has neither vendor nor OS, and {@code unknown} for the OS is what keeps LLDB's System V ABI
     * plugin (frames, calls) in use for it.
     */
    record Machine(String triple, int pointerSize, String endian) {
    }

    /** By GDB's {@code <architecture>} of the target description; an architecture not here gets empty replies. */
    static final Map<String, Machine> MACHINES = Map.of(
            "i386:x86-64", new Machine("x86_64-unknown-unknown", 8, "little"),
            "aarch64", new Machine("aarch64-unknown-unknown", 8, "little"));

    /** The pid LLDB shows ("Process 1"): the whole guest is one process, as gdb's {@code qAttached} and QEMU have it. */
    static final int PID = 1;

    private final SessionState state;
    private final Machine machine;

    LldbHandlers(SessionState state) {
        this.state = state;
        this.machine = MACHINES.get(state.target.description().architecture());
    }

    void register(HandlerTable table) {
        table.on(HostInfo.class, c -> Outcome.reply(machine == null ? "" : machineKeys()));
        table.on(ProcessInfo.class, c -> Outcome.reply(machine == null ? "" : "pid:" + Hex.number(PID) + ";" + machineKeys()));
        table.on(ListThreadsInStopReply.class, c -> {
            state.listThreadsInStopReply = true;
            return Outcome.reply(Replies.OK);
        });
        table.on(ThreadStopInfo.class, this::threadStopInfo);
    }

    /**
     * One thread's stop reply: the last stop's for the thread that caused it; for any other (all-stop:
     * it was stopped with the rest) a {@code T00}, signal 0 being "no reason" to LLDB, with that
     * thread's expedited registers.
     */
    private Outcome threadStopInfo(ThreadStopInfo c) throws TargetException {
        if (c.thread() <= 0 || c.thread() > Integer.MAX_VALUE || !state.alive((int) c.thread())) {
            throw new TargetException(TargetException.EINVAL, "no thread " + c.thread());
        }
        int thread = (int) c.thread();
        StopEvent last = state.lastStop != null ? state.lastStop : state.target.currentStop();
        if (last instanceof StopEvent.Signal s && s.thread() == thread) {
            return Outcome.reply(state.stopReply(last));
        }
        return Outcome.reply(state.stopReply(new StopEvent.Signal(thread, 0, new StopEvent.Plain())));
    }

    /** {@code triple} is hex-encoded text; {@code ptrsize} a decimal byte count. */
    private String machineKeys() {
        return "triple:" + Hex.encodeText(machine.triple()) + ";ptrsize:" + machine.pointerSize() + ";endian:" + machine.endian() + ";";
    }
}

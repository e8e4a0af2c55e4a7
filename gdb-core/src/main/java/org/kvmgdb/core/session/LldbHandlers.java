package org.kvmgdb.core.session;

import java.util.Map;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.protocol.LldbPackets.HostInfo;
import org.kvmgdb.core.protocol.LldbPackets.ListThreadsInStopReply;
import org.kvmgdb.core.protocol.LldbPackets.ProcessInfo;
import org.kvmgdb.core.protocol.Replies;

/**
 * What LLDB asks beyond gdb's packets and we answer: {@code qHostInfo}, {@code qProcessInfo} and
 * {@code QListThreadsInStopReply} (LLDB's "GDB Remote Protocol Extensions"). LLDB takes its register
 * layout from {@code target.xml} as gdb does, so {@code qRegisterInfoN} is not needed (LLDB sends it
 * only to a stub without {@code qXfer:features:read+}) and gets the empty reply.
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
    }

    /** {@code triple} is hex-encoded text; {@code ptrsize} a decimal byte count. */
    private String machineKeys() {
        return "triple:" + Hex.encodeText(machine.triple()) + ";ptrsize:" + machine.pointerSize() + ";endian:" + machine.endian() + ";";
    }
}

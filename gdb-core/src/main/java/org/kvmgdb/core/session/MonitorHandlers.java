package org.kvmgdb.core.session;

import java.util.ArrayList;
import java.util.List;
import org.kvmgdb.core.monitor.Monitor;
import org.kvmgdb.core.monitor.MonitorContext;
import org.kvmgdb.core.monitor.SessionStatistics;
import org.kvmgdb.core.protocol.MonitorPackets;
import org.kvmgdb.core.protocol.MonitorPackets.PhyMemModeQuery;
import org.kvmgdb.core.protocol.MonitorPackets.PhyMemModeSet;
import org.kvmgdb.core.protocol.MonitorPackets.QemuSupported;
import org.kvmgdb.core.protocol.MonitorPackets.Rcmd;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.target.DebugTarget;

/**
 * {@code qRcmd} (gdb's {@code monitor}) and QEMU's physical-memory mode packets. A command's output
 * goes to gdb as {@code O} packets, then {@code OK} ends the command, as the GDB manual's
 * {@code qRcmd} section describes; errors are output too (the manual asks for that: gdb shows an
 * {@code E} reply to {@code qRcmd} only as a protocol error).
 */
final class MonitorHandlers implements MonitorContext {
    /** What QEMU's {@code qqemu.Supported} lists that we serve (QEMU adds {@code sstepbits;sstep}). */
    static final String QEMU_SUPPORTED = "PhyMemMode";

    private final SessionState state;
    private final Monitor monitor;

    MonitorHandlers(SessionState state) {
        this.state = state;
        this.monitor = Monitor.forTarget(state.target);
    }

    void register(HandlerTable table) {
        table.on(Rcmd.class, c -> {
            List<byte[]> packets = new ArrayList<>(MonitorPackets.outputPackets(monitor.execute(c.line(), this)));
            packets.add(Replies.OK);
            return new Outcome.Packets(packets);
        });
        boolean physical = state.target.physicalMemory().isPresent();
        // Without physical memory, QEMU's packets get the empty reply: gdb's maint packet shows it unsupported.
        table.on(QemuSupported.class, c -> Outcome.reply(physical ? QEMU_SUPPORTED : ""));
        table.on(PhyMemModeQuery.class, c -> Outcome.reply(physical ? (state.physicalMode ? "1" : "0") : ""));
        table.on(PhyMemModeSet.class, c -> {
            if (!physical) {
                return Outcome.reply(Replies.EMPTY);
            }
            state.physicalMode = c.on();
            return Outcome.reply(Replies.OK);
        });
    }

    // ---- MonitorContext ----

    @Override
    public DebugTarget target() {
        return state.target;
    }

    @Override
    public int thread() {
        return state.generalThread();
    }

    @Override
    public boolean physicalMode() {
        return state.physicalMode;
    }

    @Override
    public void setPhysicalMode(boolean on) {
        state.physicalMode = on;
    }

    @Override
    public SessionStatistics statistics() {
        return state.statistics;
    }
}

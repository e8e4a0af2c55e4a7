package org.kvmgdb.core.monitor;

import java.util.List;
import java.util.Optional;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.TargetInspection;
import org.kvmgdb.core.target.TargetInspection.VcpuStatus;

/** {@code monitor info vcpus}: each vCPU's thread, state and pc; {@code *} marks the selected one, as in gdb's {@code info threads}. */
final class InfoVcpusCommand implements StubCommand {

    @Override
    public String name() {
        return "info vcpus";
    }

    @Override
    public String usage() {
        return "";
    }

    @Override
    public String help() {
        return "each vCPU's gdb thread, state (stopped, halted, running) and pc";
    }

    @Override
    public String run(List<String> arguments, MonitorContext context) {
        if (!arguments.isEmpty()) {
            throw new IllegalArgumentException("info vcpus takes no arguments");
        }
        DebugTarget target = context.target();
        Optional<TargetInspection> inspection = target.inspection();
        StringBuilder out = new StringBuilder();
        if (inspection.isEmpty()) {
            // No state of its own: what gdb's info threads shows.
            for (int thread : target.threads()) {
                out.append(String.format("%s thread %d  %s  %s%n", thread == context.thread() ? "*" : " ", thread,
                        target.threadName(thread), target.threadExtraInfo(thread)));
            }
            return out.toString();
        }
        for (VcpuStatus v : inspection.get().vcpus()) {
            String pc = v.pc().isPresent() ? "pc 0x" + Long.toHexString(v.pc().getAsLong()) : "";
            out.append(String.format("%s thread %d  %-7s  %-7s  %s", v.thread() == context.thread() ? "*" : " ", v.thread(),
                    v.name(), v.state().name().toLowerCase(), pc).stripTrailing()).append('\n');
        }
        return out.toString();
    }
}

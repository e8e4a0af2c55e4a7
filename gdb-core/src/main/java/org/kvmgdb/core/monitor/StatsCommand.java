package org.kvmgdb.core.monitor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.kvmgdb.core.target.TargetInspection;
import org.kvmgdb.core.target.TargetInspection.VcpuCounters;

/**
 * {@code monitor stats}: {@code KVM_RUN} exits by reason (since the VM started), packets by type
 * (this session), and where the time went: inside {@code KVM_RUN}, running between a resume and
 * its stop, and in the stub serving packets.
 */
final class StatsCommand implements StubCommand {

    @Override
    public String name() {
        return "stats";
    }

    @Override
    public String usage() {
        return "";
    }

    @Override
    public String help() {
        return "KVM exits by reason, packets by type, time in the guest and in the stub";
    }

    @Override
    public String run(List<String> arguments, MonitorContext context) {
        if (!arguments.isEmpty()) {
            throw new IllegalArgumentException("stats takes no arguments");
        }
        StringBuilder out = new StringBuilder();
        List<VcpuCounters> counters = context.target().inspection().map(TargetInspection::counters).orElse(List.of());
        if (!counters.isEmpty()) {
            Map<String, Long> exits = new LinkedHashMap<>();
            long interrupted = 0;
            for (VcpuCounters c : counters) {
                c.exitsByReason().forEach((reason, n) -> exits.merge(reason, n, Long::sum));
                interrupted += c.interrupted();
            }
            out.append("exits by reason (since the VM started):\n");
            exits.forEach((reason, n) -> out.append(String.format("  %-26s %10d%n", reason, n)));
            out.append(String.format("  %-26s %10d%n", "(KVM_RUN ended by a kick)", interrupted));
        }
        out.append("packets by type (this session):\n");
        long packets = 0;
        long servingNanos = 0;
        for (Map.Entry<String, long[]> e : context.statistics().packets().entrySet()) {
            out.append(String.format("  %-26s %10d%n", e.getKey(), e.getValue()[0]));
            packets += e.getValue()[0];
            servingNanos += e.getValue()[1];
        }
        out.append(String.format("  %-26s %10d%n", "total", packets));
        out.append("time:\n");
        if (!counters.isEmpty()) {
            long inGuest = 0;
            StringBuilder perVcpu = new StringBuilder();
            for (VcpuCounters c : counters) {
                inGuest += c.nanosInGuest();
                perVcpu.append(String.format("    %-24s %12s  %d exits%n", c.name(), seconds(c.nanosInGuest()), c.exits()));
            }
            out.append(String.format("  %-26s %12s  (inside KVM_RUN, all vCPUs, since the VM started)%n", "in the guest", seconds(inGuest)));
            out.append(perVcpu);
        }
        out.append(String.format("  %-26s %12s  (%d resumes, from the packet to the stop reply)%n", "running",
                seconds(context.statistics().runningNanos()), context.statistics().resumes()));
        out.append(String.format("  %-26s %12s  (%d packets, from arrival to reply)%n", "in the stub", seconds(servingNanos), packets));
        return out.toString();
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.6f s", nanos / 1e9);
    }
}

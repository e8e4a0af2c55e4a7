package org.kvmgdb.core.monitor;

import java.util.List;
import org.kvmgdb.core.target.TargetException;

/**
 * {@code monitor phys on|off}: the same switch as QEMU's {@code Qqemu.PhyMemMode}. While on, gdb's
 * memory reads and writes ({@code x}, {@code print *(T *)ADDR}, {@code set var}) address
 * guest-physical memory instead of going through the selected vCPU's page tables.
 */
final class PhysCommand implements StubCommand {

    @Override
    public String name() {
        return "phys";
    }

    @Override
    public String usage() {
        return "[on|off]";
    }

    @Override
    public String help() {
        return "memory reads and writes address guest-physical memory (on) or virtual memory (off); alone: which";
    }

    @Override
    public String run(List<String> arguments, MonitorContext context) throws TargetException {
        if (arguments.size() > 1) {
            throw new IllegalArgumentException("phys takes on or off");
        }
        if (!arguments.isEmpty()) {
            String word = arguments.get(0);
            boolean on;
            if (word.equals("on") || word.equals("1")) {
                on = true;
            } else if (word.equals("off") || word.equals("0")) {
                on = false;
            } else {
                throw new IllegalArgumentException("phys takes on or off, not \"" + word + "\"");
            }
            if (on && context.target().physicalMemory().isEmpty()) {
                throw new TargetException(TargetException.EINVAL, "this target cannot address physical memory");
            }
            context.setPhysicalMode(on);
        }
        return context.physicalMode()
                ? "physical memory mode is on: memory reads and writes address guest-physical memory\n"
                : "physical memory mode is off: memory reads and writes go through the selected vCPU's page tables\n";
    }
}

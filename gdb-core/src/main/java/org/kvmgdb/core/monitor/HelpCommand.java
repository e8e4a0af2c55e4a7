package org.kvmgdb.core.monitor;

import java.util.List;

/** {@code monitor help [COMMAND]}: every command with its one line of help, or one command's. */
final class HelpCommand implements StubCommand {
    static final String NAME = "help";

    private final Monitor monitor;

    HelpCommand(Monitor monitor) {
        this.monitor = monitor;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String usage() {
        return "[COMMAND]";
    }

    @Override
    public String help() {
        return "this list, or the help of one command";
    }

    @Override
    public String run(List<String> arguments, MonitorContext context) {
        if (!arguments.isEmpty()) {
            StubCommand c = monitor.find(arguments);
            if (c == null || Monitor.words(c.name()).size() != arguments.size()) {
                throw new IllegalArgumentException("no monitor command \"" + String.join(" ", arguments) + "\"");
            }
            return "monitor " + Monitor.synopsis(c) + "\n  " + c.help() + "\n";
        }
        int width = 0;
        for (StubCommand c : monitor.commands()) {
            width = Math.max(width, Monitor.synopsis(c).length());
        }
        StringBuilder out = new StringBuilder("kvmgdb monitor commands:\n");
        for (StubCommand c : monitor.commands()) {
            out.append(String.format("  %-" + width + "s  %s%n", Monitor.synopsis(c), c.help()));
        }
        // gdb sends no Hg before qRcmd: the stub only knows the thread gdb last read registers or memory of.
        out.append("The selected vCPU is the thread gdb last read registers or memory of (marked * by info vcpus).\n");
        return out.toString();
    }
}

package org.kvmgdb.core.monitor;

import java.util.List;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.core.target.TargetException;
import org.kvmgdb.core.target.TargetInspection;

/** A command the architecture adds, run on the selected thread's vCPU through the target. */
final class ArchitectureCommand implements StubCommand {
    private final MonitorCommand command;

    ArchitectureCommand(MonitorCommand command) {
        this.command = command;
    }

    @Override
    public String name() {
        return command.name();
    }

    @Override
    public String usage() {
        return command.usage();
    }

    @Override
    public String help() {
        return command.help();
    }

    @Override
    public String run(List<String> arguments, MonitorContext context) throws TargetException {
        TargetInspection inspection = context.target().inspection().orElseThrow(
                () -> new TargetException(TargetException.EINVAL, "this target cannot run architecture commands"));
        return inspection.run(command, context.thread(), arguments);
    }
}

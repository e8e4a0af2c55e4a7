package org.kvmgdb.core.monitor;

import java.util.List;
import org.kvmgdb.core.target.TargetException;

/** A {@code monitor} command: its words, its help, and what it prints. */
public interface StubCommand {

    /** The words that call it, one space apart, e.g. {@code "info vcpus"}. */
    String name();

    /** Its arguments for {@code monitor help}, e.g. {@code "on|off"}; empty when it takes none. */
    String usage();

    /** One line for {@code monitor help}. */
    String help();

    /**
     * @param arguments the words after the name
     * @return what gdb shows, each line ending in {@code \n}
     * @throws IllegalArgumentException when the arguments are wrong (the message is shown with the usage)
     * @throws TargetException          when the target cannot answer (the message is shown)
     */
    String run(List<String> arguments, MonitorContext context) throws TargetException;
}

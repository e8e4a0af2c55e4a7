package org.kvmgdb.api.arch;

import java.util.List;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * A command an architecture adds to gdb's {@code monitor} (the {@code qRcmd} packet), such as
 * x86's {@code info regs}. The core lists it in {@code monitor help}, matches it by its words and
 * runs it on the vCPU gdb has selected, while every vCPU is stopped.
 */
public interface MonitorCommand {

    /** The words that call it, separated by one space, e.g. {@code "info regs"}. */
    String name();

    /** Its arguments as {@code monitor help} shows them, e.g. {@code "START END"}; empty when it takes none. */
    default String usage() {
        return "";
    }

    /** One line for {@code monitor help}. */
    String help();

    /**
     * Runs the command.
     *
     * @param vcpu      the selected vCPU, stopped; {@code vcpu.vm().memory()} is guest-physical RAM
     * @param arguments the words after the name
     * @return what gdb shows, each line ending in {@code \n}
     * @throws IllegalArgumentException when the arguments are not what the command takes; the
     *     message is shown to the user with the usage
     */
    String run(VcpuHandle vcpu, List<String> arguments);
}

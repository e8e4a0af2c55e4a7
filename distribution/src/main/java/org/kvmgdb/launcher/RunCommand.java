package org.kvmgdb.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.core.registry.ProviderRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kvmgdb run [options] GUEST.elf}: the command line of DESIGN.md, parsed and validated. */
@Command(name = "run", sortOptions = false,
        description = {
            "Start GUEST.elf (an x86-64 ELF) in a KVM virtual machine, optionally with a GDB stub.",
            "Exit status: the guest's exit-port value v as (v << 1) | 1 (always odd); 2 for a usage error or an ELF"
                    + " that cannot run; 3 when KVM cannot be used (-Dkvmgdb.device=PATH opens another device than"
                    + " /dev/kvm); 4 when a vCPU failed; 6 when the --gdb address cannot be listened on (port in use,"
                    + " socket file that cannot be created); 137 when gdb killed the guest."})
final class RunCommand implements Callable<Integer> {
    /** What {@code -s} means, as in QEMU. */
    static final String DEFAULT_GDB = "tcp::1234";

    private final GuestRunner runner;

    @Spec
    CommandSpec spec;

    @Option(names = "--gdb", paramLabel = "DEV",
            description = {"Wait for gdb on DEV: tcp:[HOST]:PORT (an empty HOST means 127.0.0.1), unix:PATH"
                    + " (a socket file with mode 0600), or stdio (the protocol on stdin/stdout, for gdb's"
                    + " 'target remote | kvmgdb run --gdb stdio GUEST.elf'; serial output and logs go to stderr)."
                    + " 'kvmgdb plugins' lists the transports installed."})
    String gdb;

    @Option(names = "-s", description = "The same as --gdb " + DEFAULT_GDB + ".")
    boolean gdbDefault;

    @Option(names = {"-S", "--wait"},
            description = "Stop every vCPU before its first instruction until a debugger attaches (needs --gdb or -s).")
    boolean waitForDebugger;

    @Option(names = "--cpus", paramLabel = "N", description = "Number of vCPUs (default: ${DEFAULT-VALUE}).")
    int cpus = 1;

    @Option(names = "--memory", paramLabel = "SIZE", converter = MemorySize.class, defaultValue = "128M",
            description = "Guest RAM with a K, M or G suffix; a number alone means MiB, as with QEMU's -m"
                    + " (default: ${DEFAULT-VALUE}).")
    long memoryBytes;

    @Mixin
    LoggingOptions logging = new LoggingOptions();

    @Mixin
    HelpOption help = new HelpOption();

    @Option(names = "--log-packets", description = "Log every RSP packet.")
    boolean logPackets;

    @Option(names = "--gdb-allow-remote",
            description = "Allow --gdb to listen on a non-loopback address: whoever reaches it controls the guest.")
    boolean allowRemote;

    @Parameters(index = "0", paramLabel = "GUEST.elf", description = "The guest program.")
    Path guest;

    RunCommand(GuestRunner runner) {
        this.runner = runner;
    }

    @Override
    public Integer call() {
        if (gdb != null && gdbDefault) {
            throw usage("-s is the same as --gdb " + DEFAULT_GDB + "; give one of them");
        }
        String gdbValue = gdb != null ? gdb : gdbDefault ? DEFAULT_GDB : null;
        if (cpus < 1) {
            throw usage("--cpus must be at least 1, was " + cpus);
        }
        if (waitForDebugger && gdbValue == null) {
            throw usage("-S/--wait waits for a debugger: give --gdb DEV or -s too");
        }
        if (!Files.isRegularFile(guest)) {
            throw usage((Files.exists(guest) ? "GUEST is not a regular file: " : "GUEST file not found: ") + guest);
        }
        if (!Files.isReadable(guest)) {
            throw usage("GUEST file is not readable: " + guest);
        }

        logging.apply(gdbValue != null && (gdbValue.equals(KvmGuestRunner.STDIO) || gdbValue.startsWith(KvmGuestRunner.STDIO + ":")));
        ProviderRegistry registry = ProviderRegistry.load();
        TransportOptions options = new TransportOptions(allowRemote);
        Optional<TransportAddress> address = Optional.empty();
        if (gdbValue != null) {
            address = Optional.of(parseGdb(registry, gdbValue, options));
        }
        RunConfiguration configuration = new RunConfiguration(guest, address, waitForDebugger, cpus, memoryBytes,
                logging.level, logPackets, allowRemote, registry);
        return runner.runGuest(configuration);
    }

    /** Through the transport's own parser, so its security rules (loopback only, ...) apply. */
    private TransportAddress parseGdb(ProviderRegistry registry, String value, TransportOptions options) {
        try {
            return registry.parseAddress(value, options);
        } catch (TransportAddressException e) {
            throw usage("--gdb: " + e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}

package org.kvmgdb.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
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
    static final String DEFAULT_MEMORY = "128M";

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

    @Option(names = "--memory", paramLabel = "SIZE", converter = MemorySize.class, defaultValue = DEFAULT_MEMORY,
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
        if (spec == null) {
            throw new UncommonCommandLine(); // parsed by commonForm: picocli parses it again and reports this
        }
        return new ParameterException(spec.commandLine(), message);
    }

    /** A command line that {@link #commonForm} leaves to picocli. */
    static final class UncommonCommandLine extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UncommonCommandLine() {
            super(null, null, false, false);
        }
    }

    /**
     * {@code run} parsed without picocli, for the forms people and scripts write: every option by
     * its full name with its value in the next argument or after {@code =}, each at most once, and
     * one guest file. Building picocli's model loads ~180 Java 5 class files that class-data
     * sharing cannot archive, a third of the time to listening (issue 7). Anything else (help,
     * clustered short options, {@code --}, {@code @file}, a repeated or unknown option, a value
     * that does not convert) gives empty, and picocli parses and reports it as before.
     */
    static Optional<RunCommand> commonForm(String[] args, GuestRunner runner) {
        if (args.length < 2 || !args[0].equals("run")) {
            return Optional.empty();
        }
        RunCommand c = new RunCommand(runner);
        Set<String> seen = new HashSet<>();
        try {
            for (int i = 1; i < args.length; i++) {
                String arg = args[i];
                if (!arg.startsWith("-")) {
                    if (c.guest != null || arg.startsWith("@")) {
                        return Optional.empty();
                    }
                    c.guest = Path.of(arg);
                    continue;
                }
                int equals = arg.indexOf('=');
                String name = equals < 0 ? arg : arg.substring(0, equals);
                if (!seen.add(name.equals("--wait") ? "-S" : name)) {
                    return Optional.empty();
                }
                boolean flag = true;
                switch (name) {
                    case "-s": c.gdbDefault = true; break;
                    case "-S": case "--wait": c.waitForDebugger = true; break;
                    case "--log-packets": c.logPackets = true; break;
                    case "--gdb-allow-remote": c.allowRemote = true; break;
                    case "--gdb": case "--cpus": case "--memory": case "--log-level": flag = false; break;
                    default: return Optional.empty();
                }
                if (flag) {
                    if (equals >= 0) { // --wait=true and the like: picocli's rules
                        return Optional.empty();
                    }
                    continue;
                }
                String value;
                if (equals >= 0) {
                    value = arg.substring(equals + 1);
                } else if (i + 1 < args.length && !args[i + 1].startsWith("-") && !args[i + 1].startsWith("@")) {
                    value = args[++i];
                } else {
                    return Optional.empty();
                }
                switch (name) {
                    case "--gdb": c.gdb = value; break;
                    case "--cpus": c.cpus = Integer.parseInt(value); break;
                    case "--memory": c.memoryBytes = new MemorySize().convert(value); break;
                    default: c.logging.level = new LoggingOptions.LevelConverter().convert(value); break;
                }
            }
            if (!seen.contains("--memory")) {
                c.memoryBytes = new MemorySize().convert(DEFAULT_MEMORY);
            }
        } catch (RuntimeException e) { // NumberFormatException, picocli's TypeConversionException
            return Optional.empty();
        }
        return c.guest == null ? Optional.empty() : Optional.of(c);
    }
}

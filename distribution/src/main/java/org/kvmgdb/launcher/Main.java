package org.kvmgdb.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.Set;
import org.kvmgdb.core.registry.RegistryException;
import org.tinylog.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code kvmgdb}: the launcher's entry point ({@code bin/kvmgdb} runs this class). */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        StartupWarmup.startFor(args);
        int status = execute(args, new KvmGuestRunner(), new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(status);
    }

    /**
     * The subcommands that may be added alone, as their {@code @Command} annotations name them. Not
     * {@code help}: it lists the others and shows their usage ({@code kvmgdb help run}), so it needs them all.
     */
    private static final Set<String> SUBCOMMANDS = Set.of("run", "demo", "plugins");

    /** Parses and runs one command line; returns the exit status. */
    public static int execute(String[] args, GuestRunner runner, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Kvmgdb());
        // Only the subcommand the line names, when it names one: picocli builds each command's model
        // from its annotations up front, and a start pays for commands it never runs (issue 7).
        // Anything else (no command, an option, an unknown word) gets them all, for help and errors.
        String first = args.length > 0 ? args[0] : "";
        boolean all = !SUBCOMMANDS.contains(first);
        if (all || first.equals("run")) {
            cli.addSubcommand(new RunCommand(runner));
        }
        if (all || first.equals("demo")) {
            cli.addSubcommand(new DemoCommand(runner));
        }
        if (all || first.equals("plugins")) {
            cli.addSubcommand(new PluginsCommand());
        }
        if (all) {
            cli.addSubcommand(new CommandLine.HelpCommand());
        }
        // After the subcommands, so that these reach them too.
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler(new UsageErrors());
        cli.setExecutionExceptionHandler(new Failures());
        int status = cli.execute(args);
        out.flush();
        err.flush();
        return status;
    }

    /*
     * The two handlers are classes, not method references: a lambda implementing one of picocli's
     * interfaces links that (Java 5) interface when the class-data-sharing archive is dumped, and
     * JDK 17 then leaves it, and picocli's classes implementing it, out of the archive; loading
     * those from the jar costs a start ~7 ms (issue 7).
     */
    private static final class UsageErrors implements CommandLine.IParameterExceptionHandler {
        @Override
        public int handleParseException(ParameterException e, String[] args) {
            return usageError(e, args);
        }
    }

    private static final class Failures implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
            return failure(e, cli, parsed);
        }
    }

    /** A usage error is one line on stderr and status 2. */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        cli.getErr().println("kvmgdb: " + e.getMessage() + " (see '" + cli.getCommandSpec().qualifiedName() + " --help')");
        return ExitStatus.USAGE;
    }

    private static int failure(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        if (e instanceof RegistryException) {
            RegistryException r = (RegistryException) e;
            cli.getErr().println("kvmgdb: " + r.getMessage());
            return r.userChoice() ? ExitStatus.USAGE : ExitStatus.FAILURE;
        }
        Logger.error(e, "internal error");
        cli.getErr().println("kvmgdb: internal error: " + e);
        return ExitStatus.FAILURE;
    }

    @Command(name = "kvmgdb", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "A GDB remote stub for KVM virtual machines, with the small VMM it needs to start a guest.",
            footer = {"", "Examples:", "  kvmgdb run --gdb tcp::1234 -S guest.elf    then in gdb: target remote :1234",
                "  kvmgdb plugins"})
    static final class Kvmgdb implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            throw new ParameterException(spec.commandLine(), "missing command: run, demo, plugins or help");
        }
    }

    /** {@code --version}: the Maven project version, filtered into version.properties at build time. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            return new String[] {"kvmgdb " + version()};
        }

        static String version() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in == null) {
                    throw new IOException("version.properties is missing from the launcher jar");
                }
                p.load(in);
            }
            return p.getProperty("version");
        }
    }
}

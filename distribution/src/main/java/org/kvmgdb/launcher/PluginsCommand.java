package org.kvmgdb.launcher;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.transport.TransportProvider;
import org.kvmgdb.core.registry.ProviderEntry;
import org.kvmgdb.core.registry.ProviderRegistry;
import org.kvmgdb.core.registry.Selection;
import org.kvmgdb.core.registry.SkippedProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code kvmgdb plugins}: every architecture and transport found, and the jar each came from. */
@Command(name = "plugins",
        description = {"List the architectures and transports found in lib/, with the jar each came from.",
            "A jar dropped into lib/ with a META-INF/services entry adds one; removing it removes it."})
final class PluginsCommand implements Callable<Integer> {
    /** ELF e_machine values (elf.h) for the names shown next to the numbers. */
    private static final Map<Integer, String> MACHINES = Map.of(3, "EM_386", 40, "EM_ARM", 62, "EM_X86_64",
            183, "EM_AARCH64", 243, "EM_RISCV");

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingOptions logging = new LoggingOptions();

    @Mixin
    HelpOption help = new HelpOption();

    @Override
    public Integer call() {
        logging.apply();
        ProviderRegistry registry = ProviderRegistry.load();
        PrintWriter out = spec.commandLine().getOut();
        OptionalInt host = hostElfMachine();

        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ARCHITECTURE", "ELF MACHINE", "AVAILABLE FOR KVM GUESTS", "JAR"});
        for (ProviderEntry<ArchitectureProvider> a : registry.architectures()) {
            int machine = a.provider().elfMachine();
            rows.add(new String[] {a.key(), machine + " " + MACHINES.getOrDefault(machine, ""),
                registry.isOffered(a) ? guestSupport(a.provider(), host) : notPicked(Selection.ARCH_PROPERTY, registry),
                a.locationText()});
        }
        table(out, "Architectures", rows);
        out.println();

        rows = new ArrayList<>();
        rows.add(new String[] {"TRANSPORT", "SYNTAX", "AVAILABLE", "JAR"});
        for (ProviderEntry<TransportProvider> t : registry.transports()) {
            String reason = ProviderRegistry.unavailabilityReason(t.provider());
            rows.add(new String[] {t.key(), t.provider().syntax(),
                !registry.isOffered(t) ? notPicked(Selection.TRANSPORT_PROPERTY, registry)
                        : reason == null ? "yes" : "no: " + reason,
                t.locationText()});
        }
        table(out, "Transports", rows);

        if (!registry.skipped().isEmpty()) {
            out.println();
            out.println("Skipped (broken) providers:");
            for (SkippedProvider s : registry.skipped()) {
                out.println("  " + s.provider() + " in " + s.location() + ": " + s.reason());
            }
        }
        out.flush();
        return ExitStatus.OK;
    }

    private static String notPicked(String property, ProviderRegistry registry) {
        String pick = property.equals(Selection.ARCH_PROPERTY) ? registry.selection().architecture().orElse("")
                : registry.selection().transport().orElse("");
        return "no: not picked (-D" + property + "=" + pick + ")";
    }

    /** Whether {@code kvmgdb run} can start this architecture's guests on this machine. */
    private static String guestSupport(ArchitectureProvider arch, OptionalInt host) {
        if (host.isEmpty() || host.getAsInt() != arch.elfMachine()) {
            return "no: host is " + System.getProperty("os.arch") + " (register layout for gdb only)";
        }
        try {
            if (arch.bootState().isEmpty() || arch.registerAccess().isEmpty()) {
                return "no: register layout only (no KVM boot state or register access yet)";
            }
        } catch (RuntimeException e) {
            return "no: " + e;
        }
        return "yes";
    }

    /** The ELF machine of the JVM's host CPU, when it is one KVM guests could use. */
    static OptionalInt hostElfMachine() {
        switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
            case "amd64":
            case "x86_64":
                return OptionalInt.of(62);
            case "aarch64":
                return OptionalInt.of(183);
            default:
                return OptionalInt.empty();
        }
    }

    private static void table(PrintWriter out, String title, List<String[]> rows) {
        out.println(title + ":");
        if (rows.size() == 1) {
            out.println("  (none found)");
            return;
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder(" ");
            for (int i = 0; i < row.length; i++) {
                line.append(' ').append(row[i]);
                if (i < row.length - 1) {
                    line.append(" ".repeat(widths[i] - row[i].length() + 1));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }
}

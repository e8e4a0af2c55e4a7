package org.kvmgdb.core.monitor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.TargetException;
import org.kvmgdb.core.target.TargetInspection;
import org.tinylog.Logger;

/**
 * Runs the command lines gdb sends with {@code monitor}: finds the command whose words begin the
 * line (the longest such name wins), runs it with the remaining words, and returns the text to
 * show. Nothing a command does ends the session: wrong arguments, target errors and bugs all come
 * back as a message.
 */
public final class Monitor {
    private final List<StubCommand> commands;

    /** A monitor with exactly these commands (plus {@code help}, which lists them). */
    public Monitor(List<StubCommand> commands) {
        List<StubCommand> all = new ArrayList<>(commands);
        all.add(new HelpCommand(this));
        all.sort(Comparator.comparing(StubCommand::name));
        this.commands = List.copyOf(all);
    }

    /**
     * The built-in commands ({@code help}, {@code info vcpus}, {@code phys}, {@code stats}) and
     * those the target's architecture adds. An architecture command named like a built-in one is
     * left out, with a warning.
     */
    public static Monitor forTarget(DebugTarget target) {
        List<StubCommand> all = new ArrayList<>(List.of(new InfoVcpusCommand(), new PhysCommand(), new StatsCommand()));
        List<String> names = all.stream().map(StubCommand::name).collect(Collectors.toCollection(ArrayList::new));
        names.add(HelpCommand.NAME);
        List<MonitorCommand> architecture = target.inspection().map(TargetInspection::architectureCommands).orElse(List.of());
        for (MonitorCommand c : architecture) {
            if (names.contains(c.name())) {
                Logger.warn("the architecture's monitor command '{}' has the name of another command; left out", c.name());
                continue;
            }
            names.add(c.name());
            all.add(new ArchitectureCommand(c));
        }
        return new Monitor(all);
    }

    /** Every command, by name. */
    public List<StubCommand> commands() {
        return commands;
    }

    /** Runs one command line; returns its output, ending in a newline (or empty). */
    public String execute(String line, MonitorContext context) {
        List<String> words = words(line);
        if (words.isEmpty()) {
            words = List.of(HelpCommand.NAME);
        }
        StubCommand command = find(words);
        if (command == null) {
            return unknown(words);
        }
        List<String> arguments = words.subList(words(command.name()).size(), words.size());
        try {
            return endLine(command.run(arguments, context));
        } catch (IllegalArgumentException e) {
            return endLine(e.getMessage()) + "usage: monitor " + synopsis(command) + "\n";
        } catch (TargetException e) {
            return endLine(command.name() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            Logger.error(e, "monitor {} failed", line);
            return endLine(command.name() + " failed: " + e);
        }
    }

    /** The command whose words begin {@code words}, the longest one if several do; null when none. */
    StubCommand find(List<String> words) {
        StubCommand best = null;
        int bestLength = 0;
        for (StubCommand c : commands) {
            List<String> name = words(c.name());
            if (name.size() > bestLength && name.size() <= words.size() && words.subList(0, name.size()).equals(name)) {
                best = c;
                bestLength = name.size();
            }
        }
        return best;
    }

    /** {@code info} alone, or {@code info foo}: say which ones there are; anything else: point at help. */
    private String unknown(List<String> words) {
        List<String> sameFirstWord = commands.stream().map(StubCommand::name)
                .filter(n -> words(n).size() > 1 && words(n).get(0).equals(words.get(0))).collect(Collectors.toList());
        if (!sameFirstWord.isEmpty()) {
            String what = words.size() == 1 ? "\"" + words.get(0) + "\" needs one more word"
                    : "unknown monitor command \"" + String.join(" ", words.subList(0, 2)) + "\"";
            return what + "; try: " + String.join(", ", sameFirstWord) + "\n";
        }
        return "unknown monitor command \"" + words.get(0) + "\"; \"monitor help\" lists the commands\n";
    }

    static String synopsis(StubCommand c) {
        return c.usage().isEmpty() ? c.name() : c.name() + " " + c.usage();
    }

    static List<String> words(String line) {
        String trimmed = line.trim();
        return trimmed.isEmpty() ? List.of() : Arrays.asList(trimmed.split("\\s+"));
    }

    private static String endLine(String text) {
        return text.isEmpty() || text.endsWith("\n") ? text : text + "\n";
    }
}

package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real gdb run by a script: {@code gdb -nx -q [FILE]} with its commands written to its stdin, one a
 * line, and stdin closed after the last one (gdb then quits). gdb runs them in order and goes on
 * after one that fails, as in an interactive session. Unlike {@code -batch -ex CMD}, where gdb runs
 * every command as if typed in a script ({@code from_tty} = 0), commands read from stdin behave as if
 * a user typed them, so the output is what a user sees: {@code Remote debugging using},
 * {@code Continuing.}, {@code Run till exit from}, {@code Detaching from program}. The prompt is
 * empty, so each command's output stands on its own lines. {@link #section(String)} prints a marker
 * between commands so that a test can assert on what one group of commands printed.
 *
 * <p>stdout and stderr go into one stream, in the order gdb flushed them (errors next to the
 * command that caused them). A missing gdb binary skips the test with a message naming it.
 */
final class GdbBatch {
    /** A hang guard, not a timing assertion: a stuck gdb fails the test instead of blocking the build. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(3);

    private static final String SECTION_MARK = "@@@ ";

    /** How {@code set debug remote 1} logs a continue packet (gdb 13: {@code [remote] Sending packet: $vCont;c#a8}). */
    static final String RESUME_PACKET = "Sending packet: \\$(vCont;c[:;#]|c#)";

    private final Path binary;
    /** A gdb command line printed for a user to paste into a shell; {@code sh -c} runs it. */
    private final String shellLine;
    private final List<String> commands = new ArrayList<>();
    private Path file;
    private final Duration timeout = DEFAULT_TIMEOUT;

    private GdbBatch(Path binary, String shellLine) {
        this.binary = binary;
        this.shellLine = shellLine;
    }

    private GdbBatch(Path binary) {
        this(binary, null);
    }

    /** Debian's gdb (x86-64 and the host's architectures). */
    static GdbBatch gdb() {
        return new GdbBatch(require("gdb", "the x86-64 end-to-end sessions need it"));
    }

    /** gdb-multiarch, for targets that are not the host's architecture (AArch64). */
    static GdbBatch multiarch() {
        return new GdbBatch(require("gdb-multiarch", "the AArch64 sessions need it"));
    }

    /**
     * The gdb command line a program printed for its user ({@code kvmgdb demo}), run exactly as
     * pasted into a shell, {@code sh -c LINE}, with the batch options of {@link #commandLine()}
     * appended (gdb takes options after the program's name too).
     */
    static GdbBatch printed(String line) {
        Path gdb = require("gdb", "the x86-64 end-to-end sessions need it");
        return new GdbBatch(gdb, line);
    }

    /** Skips the calling test, naming the binary, when it is not on PATH. */
    static Path require(String name, String why) {
        Optional<Path> found = onPath(name);
        assumeTrue(found.isPresent(), name + " is not installed (" + why
                + "; scripts/install-test-deps installs it)");
        return found.get();
    }

    static Optional<Path> onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The program whose symbols gdb loads (its first non-option argument). */
    GdbBatch file(Path elf) {
        this.file = elf;
        return this;
    }

    /** Commands, in order, as a user would type them. */
    GdbBatch commands(String... more) {
        commands.addAll(List.of(more));
        return this;
    }

    /**
     * {@code continue} with gdb's remote protocol log on, so that {@link Running#awaitResume()} can
     * see gdb send the resume packet: from then on the target runs and a SIGINT to gdb interrupts it.
     */
    static String[] continueAndLogResume() {
        return new String[] {"set debug remote 1", "continue", "set debug remote 0"};
    }

    /** Starts a named section: {@link Result#section(String)} returns what the commands after it printed. */
    GdbBatch section(String name) {
        commands.add("echo \\n" + SECTION_MARK + name + "\\n");
        return this;
    }

    List<String> commandLine() {
        List<String> options = List.of("-nx", "-q", "-nw",
                // No pager, no questions, no line wrapping, no prompt between the outputs.
                "-iex", "set pagination off", "-iex", "set confirm off", "-iex", "set width 0", "-iex", "set prompt");
        if (shellLine != null) {
            StringBuilder line = new StringBuilder(shellLine);
            options.forEach(option -> line.append(' ').append(shellQuoted(option)));
            if (file != null) {
                line.append(' ').append(shellQuoted(file.toString()));
            }
            return List.of("/bin/sh", "-c", line.toString());
        }
        List<String> line = new ArrayList<>();
        line.add(binary.toString());
        line.addAll(options);
        if (file != null) {
            line.add(file.toString());
        }
        return line;
    }

    /** One word for a POSIX shell: {@code '...'}, each {@code '} written as {@code '\''}. */
    static String shellQuoted(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /** What gdb reads on stdin. */
    String script() {
        StringBuilder s = new StringBuilder();
        for (String command : commands) {
            s.append(command).append('\n');
        }
        return s.toString();
    }

    /** Runs gdb to the end of its commands. */
    Result run() throws IOException, InterruptedException {
        return start().await();
    }

    /** Starts gdb and returns at once, for tests that act while it runs (Ctrl-C). */
    Running start() throws IOException {
        List<String> line = commandLine();
        Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
        // gdb reads the next command only when the previous one has finished, so all of them can be
        // written now; end of input after the last one makes gdb quit.
        try (var stdin = process.getOutputStream()) {
            stdin.write(script().getBytes(StandardCharsets.UTF_8));
        }
        return new Running(process, line, script(), timeout);
    }

    /** What gdb printed and its exit status. */
    record Result(int status, String output, List<String> commandLine, String script) {

        /** What was printed between {@code section(name)} and the next section (or the end). */
        String section(String name) {
            String mark = SECTION_MARK + name + "\n";
            int start = output.indexOf(mark);
            if (start < 0) {
                throw new AssertionError("gdb never reached section '" + name + "':\n" + this);
            }
            start += mark.length();
            int end = output.indexOf("\n" + SECTION_MARK, start);
            // The next marker's echo starts with its own newline: not part of this section.
            return output.substring(start, end < 0 ? output.length() : end);
        }

        /** The first group of {@code regex} in {@code section}, failing with the section's text when it is absent. */
        String find(String section, String regex) {
            String text = section(section);
            Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
            if (!m.find()) {
                throw new AssertionError("/" + regex + "/ not found in section '" + section + "':\n" + text);
            }
            return m.groupCount() > 0 ? m.group(1) : m.group();
        }

        @Override
        public String toString() {
            return "gdb exited with " + status + "\n--- " + String.join(" ", commandLine) + "\n" + script
                    + "--- output\n" + output;
        }
    }

    /** A gdb that is running; its output is collected as it comes. */
    static final class Running implements AutoCloseable {
        private final Process process;
        private final List<String> commandLine;
        private final String script;
        private final Duration timeout;
        private final ProcessOutput output;

        private Running(Process process, List<String> commandLine, String script, Duration timeout) {
            this.process = process;
            this.commandLine = commandLine;
            this.script = script;
            this.timeout = timeout;
            this.output = new ProcessOutput(process, "gdb");
        }

        String outputSoFar() {
            return output.text();
        }

        /**
         * Waits until gdb has printed a match of {@code regex} (e.g. gdb's {@code Sending packet:
         * $vCont;c} with {@code set debug remote 1}); fails with the output if gdb ends first.
         */
        void awaitOutput(String regex) throws InterruptedException {
            output.await(regex, timeout);
        }

        /** Waits until gdb has sent {@code vCont;c} or {@code c} (after {@link #continueAndLogResume()}). */
        void awaitResume() throws InterruptedException {
            awaitOutput(RESUME_PACKET);
        }

        /** Ctrl-C: SIGINT to the gdb process, as a terminal sends it; gdb passes it to the target (0x03). */
        void interrupt() throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid()))
                    .redirectErrorStream(true).start();
            String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (kill.waitFor() != 0) {
                throw new AssertionError("kill -INT " + process.pid() + " failed: " + said);
            }
        }

        /** SIGKILL: gdb vanishes without a word to the stub, as when its terminal is closed or it crashes. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** Waits for gdb to finish its commands and exit. */
        Result await() throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                output.join(TimeUnit.SECONDS.toMillis(10));
                throw new AssertionError("gdb did not finish within the hang guard of " + timeout + ":\n"
                        + String.join(" ", commandLine) + "\n" + script + "--- output\n" + outputSoFar());
            }
            output.join();
            return new Result(process.exitValue(), outputSoFar(), commandLine, script);
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }
}

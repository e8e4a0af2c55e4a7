package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Real LLDB (Debian's {@code lldb-16}) in batch mode: {@code lldb-16 --batch --no-lldbinit -o CMD ...
 * [FILE]}. LLDB echoes each command after its prompt ({@code (lldb) CMD}) before running it, so the
 * output splits into what each command printed ({@link Result#after(String)}, and
 * {@link Result#stopAfter(String)} for the stops that LLDB's event thread prints). stdin is
 * {@code /dev/null}: a command that would ask a question gets end of input, never a hang. A missing
 * lldb skips the test with a message naming it.
 */
final class LldbBatch {
    /** A hang guard, not a timing assertion: a stuck lldb fails the test instead of blocking the build. */
    static final Duration TIMEOUT = Duration.ofMinutes(3);

    private static final String PROMPT = "(lldb) ";

    private final Path binary;
    private final List<String> commands = new ArrayList<>();
    private Path file;

    private LldbBatch(Path binary) {
        this.binary = binary;
    }

    /** Debian's lldb-16 (or an {@code lldb} on PATH); skips the calling test when there is none. */
    static LldbBatch lldb() {
        Optional<Path> found = GdbBatch.onPath("lldb-16").or(() -> GdbBatch.onPath("lldb"));
        assumeTrue(found.isPresent(),
                "lldb-16 is not installed (the LLDB sessions need it; scripts/install-test-deps installs it)");
        LldbBatch batch = new LldbBatch(found.get());
        // A packet's reply may be slow on a loaded build machine: a hang guard, as TIMEOUT is.
        batch.commands.add("settings set plugin.process.gdb-remote.packet-timeout 60");
        return batch;
    }

    /** The program whose symbols LLDB loads ({@code target create FILE}). */
    LldbBatch file(Path elf) {
        this.file = elf;
        return this;
    }

    /** Commands, in order, as a user would type them. */
    LldbBatch commands(String... more) {
        commands.addAll(List.of(more));
        return this;
    }

    List<String> commandLine() {
        List<String> line = new ArrayList<>(List.of(binary.toString(), "--batch", "--no-lldbinit", "--no-use-colors"));
        for (String command : commands) {
            line.add("-o");
            line.add(command);
        }
        if (file != null) {
            line.add(file.toString());
        }
        return line;
    }

    /** Runs LLDB to the end of its commands (in batch mode it then quits). */
    Result run() throws IOException, InterruptedException {
        List<String> line = commandLine();
        Process process = new ProcessBuilder(line).redirectErrorStream(true)
                .redirectInput(new File("/dev/null")).start();
        ProcessOutput output = new ProcessOutput(process, "lldb");
        if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            output.join(TimeUnit.SECONDS.toMillis(10));
            throw new AssertionError("lldb did not finish within " + TIMEOUT + ":\n" + String.join(" ", line) + "\n" + output.text());
        }
        output.join();
        return new Result(process.exitValue(), output.text(), line);
    }

    /** What LLDB printed and its exit status. */
    record Result(int status, String output, List<String> commandLine) {

        /** What the first {@code command} printed: the lines after its echo {@code (lldb) command}, up to the next echo. */
        String after(String command) {
            return after(command, 1);
        }

        /** The same for the {@code n}th time {@code command} was run (from 1). */
        String after(String command, int n) {
            return output(command, n, 1);
        }

        /**
         * What the {@code n}th {@code command} that resumes or connects printed, with the output of
         * the command after it: LLDB's event thread prints a stop ({@code Process 1 stopped},
         * {@code * thread #1 ...}) and may finish doing so after the next command's echo.
         */
        String stopAfter(String command, int n) {
            return output(command, n, 2);
        }

        String stopAfter(String command) {
            return stopAfter(command, 1);
        }

        private String output(String command, int n, int commands) {
            String echo = PROMPT + command + "\n";
            int start = -1;
            for (int i = 0; i < n; i++) {
                start = output.indexOf(echo, start + 1);
                if (start < 0) {
                    throw new AssertionError("lldb never ran '" + command + "' (" + n + ")\n" + this);
                }
            }
            start += echo.length();
            int end = start - 1;
            for (int i = 0; i < commands && end >= 0; i++) {
                // The echo's own newline may be the one before the next prompt (a command that printed nothing).
                end = output.indexOf("\n" + PROMPT, i == 0 ? end : end + 1);
            }
            return output.substring(start, end < 0 ? output.length() : end + 1);
        }

        @Override
        public String toString() {
            return "lldb exited with " + status + "\n--- " + String.join(" ", commandLine) + "\n--- output\n" + output;
        }
    }
}

package org.kvmgdb.core.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's gdb 13 (or gdb-multiarch) in batch mode against a remote target: what the real-gdb tests run. */
public final class BatchGdb {
    public static final Path GDB = Path.of("/usr/bin/gdb");
    /** Debian's gdb-multiarch, for targets that are not the host's architecture (AArch64). */
    public static final Path GDB_MULTIARCH = Path.of("/usr/bin/gdb-multiarch");

    private BatchGdb() {
    }

    /** Skips the calling test, naming what is missing, when gdb is not installed. */
    public static void assumeInstalled() {
        assumeTrue(Files.isExecutable(GDB), "gdb not installed at /usr/bin/gdb");
    }

    /** Skips the calling test, naming what is missing, when gdb-multiarch is not installed. */
    public static void assumeMultiarchInstalled() {
        assumeTrue(Files.isExecutable(GDB_MULTIARCH), "gdb-multiarch not installed at /usr/bin/gdb-multiarch");
    }

    /**
     * Runs gdb: {@code file ELF} (when not null), {@code target remote REMOTE}, then {@code commands};
     * returns everything it printed.
     */
    public static String run(Path elf, String remote, String... commands) throws IOException, InterruptedException {
        return run(GDB, elf, remote, commands);
    }

    /** {@link #run(Path, String, String...)} with another gdb binary, such as {@link #GDB_MULTIARCH}. */
    public static String run(Path gdbBinary, Path elf, String remote, String... commands) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(gdbBinary.toString(), "-nx", "-batch",
                "-ex", "set pagination off", "-ex", "set confirm off"));
        if (elf != null) {
            command.addAll(List.of("-ex", "file " + elf.toAbsolutePath()));
        }
        command.addAll(List.of("-ex", "target remote " + remote));
        for (String c : commands) {
            command.add("-ex");
            command.add(c);
        }
        // gdb writes to a file, not a pipe: a full pipe nobody reads until gdb exits would block gdb for good.
        Path output = Files.createTempFile("gdb-", ".out");
        try {
            Process gdb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            gdb.getOutputStream().close();
            // A hang guard only: a stuck gdb fails the test instead of blocking the build.
            if (!gdb.waitFor(120, TimeUnit.SECONDS)) {
                gdb.destroyForcibly().waitFor();
                throw new AssertionError("gdb did not finish: " + Files.readString(output, StandardCharsets.UTF_8));
            }
            return Files.readString(output, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(output);
        }
    }
}

package org.kvmgdb.launcher.e2e;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The assembled product ({@code target/kvmgdb}, set by the pom as {@code kvmgdb.home}) and a way to run it. */
final class Product {
    private Product() {
    }

    /** The product directory; the test is skipped, naming what is missing, when it was not assembled. */
    static Path home() {
        String home = System.getProperty("kvmgdb.home");
        assumeTrue(home != null, "kvmgdb.home is not set: run the end-to-end tests with mvn verify");
        Path path = Path.of(home);
        assumeTrue(Files.isExecutable(path.resolve("bin/kvmgdb")),
                path.resolve("bin/kvmgdb") + " is missing: it is built by mvn package (mvn verify runs it first)");
        return path;
    }

    record Result(int status, String out, String err) {
        /** For assertion messages. */
        String both() {
            return "status " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs {@code script args...} in {@code directory} with extra environment variables, and waits for it. */
    static Result run(Path script, Path directory, Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(script.toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("kvmgdb-out", ".txt");
        Path err = Files.createTempFile("kvmgdb-err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
            builder.environment().putAll(environment);
            Process process = builder.start();
            process.getOutputStream().close();
            // A guard against a hung launcher, not a timing assertion.
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                fail(command + " did not finish");
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static Result run(Path directory, String... args) throws IOException, InterruptedException {
        return run(home().resolve("bin/kvmgdb"), directory, Map.of(), args);
    }

    /** Copies the product tree (keeping the executable bit) to {@code target}. */
    static Path copyTo(Path target) throws IOException {
        Path source = home();
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(target.resolve(source.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, target.resolve(source.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES,
                        LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }
        });
        return target;
    }

    /**
     * The table rows of {@code kvmgdb plugins}' two tables (Architectures, Transports), by their
     * first column; titles, column headers and lines in parentheses are left out.
     */
    static Map<String, String> pluginRows(String listing) {
        Map<String, String> rows = new LinkedHashMap<>();
        boolean inTable = false;
        for (String line : listing.lines().toList()) {
            if (line.equals("Architectures:") || line.equals("Transports:")) {
                inTable = true;
            } else if (!line.startsWith("  ")) {
                inTable = false;
            } else if (inTable && !line.startsWith("  (") && !line.startsWith("  ARCHITECTURE ")
                    && !line.startsWith("  TRANSPORT ")) {
                // Column widths depend on the longest entry: compare with single spaces.
                rows.put(line.strip().split("\\s+")[0], line.strip().replaceAll("\\s+", " "));
            }
        }
        return rows;
    }
}

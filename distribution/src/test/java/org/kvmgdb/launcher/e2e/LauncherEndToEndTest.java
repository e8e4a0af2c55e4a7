package org.kvmgdb.launcher.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/kvmgdb} of the assembled product, run as a user would, from other directories. */
class LauncherEndToEndTest {
    @TempDir
    Path work;
    Path guest;

    @BeforeEach
    void guestFile() throws IOException {
        guest = Files.write(work.resolve("guest.elf"), new byte[] {0x7f, 'E', 'L', 'F'});
    }

    @Test
    void helpListsTheCommands() throws Exception {
        Product.Result r = Product.run(work, "--help");
        assertEquals(0, r.status(), r.both());
        assertTrue(r.out().startsWith("Usage: kvmgdb"), r.both());
        for (String command : List.of("run", "demo", "plugins")) {
            assertTrue(r.out().contains("\n  " + command + " "), command + " missing from:\n" + r.out());
        }
    }

    @Test
    void runHelpShowsTheDesignOptions() throws Exception {
        Product.Result r = Product.run(work, "run", "--help");
        assertEquals(0, r.status(), r.both());
        for (String option : List.of("--gdb=DEV", "-s ", "-S, --wait", "--cpus=N", "--memory=SIZE", "--log-level=L",
                "--log-packets", "--gdb-allow-remote", "GUEST.elf")) {
            assertTrue(r.out().contains(option), option + " missing from:\n" + r.out());
        }
        assertTrue(r.out().replaceAll("\\s+", " ").contains("or stdio (the protocol on stdin/stdout"), r.out());
    }

    @Test
    void versionIsTheMavenProjectVersion() throws Exception {
        Product.Result r = Product.run(work, "--version");
        assertEquals(0, r.status(), r.both());
        assertEquals("kvmgdb " + System.getProperty("kvmgdb.version") + "\n", r.out());
    }

    @Test
    void pluginsListsEveryArchitectureAndTransportWithItsJar() throws Exception {
        Product.Result r = Product.run(work, "plugins");
        assertEquals(0, r.status(), r.both());
        Map<String, String> rows = Product.pluginRows(r.out());
        Path lib = Product.home().resolve("lib");
        assertJar(rows, "x86-64", lib, "gdb-arch-x86-");
        assertJar(rows, "aarch64", lib, "gdb-arch-aarch64-");
        assertJar(rows, "tcp", lib, "gdb-transport-tcp-");
        assertJar(rows, "unix", lib, "gdb-transport-unix-");
        assertJar(rows, "stdio", lib, "gdb-transport-stdio-");
        assertTrue(rows.get("x86-64").contains(" 62 EM_X86_64 "), rows.get("x86-64"));
        assertTrue(rows.get("aarch64").contains(" 183 EM_AARCH64 "), rows.get("aarch64"));
        assertFalse(r.out().contains("Skipped"), r.both());
    }

    @Test
    void logsGoToStderrAtTheLevelAsked() throws Exception {
        Product.Result quiet = Product.run(work, "plugins");
        assertFalse(quiet.err().contains("DEBUG"), "info is the default level: " + quiet.both());
        Product.Result debug = Product.run(work, "plugins", "--log-level", "debug");
        assertEquals(0, debug.status(), debug.both());
        assertTrue(debug.err().contains("DEBUG") && debug.err().contains("architecture x86-64 (ELF machine 62) from "),
                debug.both());
        assertFalse(debug.out().contains("DEBUG"), "stdout stays clean: " + debug.both());
        assertEquals(quiet.out(), debug.out());
    }

    @Test
    void deletingTheAarch64JarRemovesThatArchitectureAndNothingElse() throws Exception {
        Path copy = Product.copyTo(work.resolve("kvmgdb"));
        Map<String, String> before = Product.pluginRows(Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "plugins").out());
        try (Stream<Path> jars = Files.list(copy.resolve("lib"))) {
            List<Path> aarch64 = jars.filter(j -> j.getFileName().toString().startsWith("gdb-arch-aarch64-"))
                    .collect(Collectors.toList());
            assertEquals(1, aarch64.size(), "the aarch64 jar in " + copy.resolve("lib"));
            Files.delete(aarch64.get(0));
        }
        Product.Result after = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "plugins");
        assertEquals(0, after.status(), after.both());
        Map<String, String> expected = new LinkedHashMap<>(before);
        assertTrue(expected.remove("aarch64") != null, "aarch64 was listed before: " + before);
        assertEquals(expected, Product.pluginRows(after.out()));
    }

    @Test
    void worksFromAnyDirectoryAndThroughSymlinks() throws Exception {
        Path bin = Files.createDirectories(work.resolve("somewhere/bin"));
        Path link = Files.createSymbolicLink(bin.resolve("kvmgdb"), Product.home().resolve("bin/kvmgdb"));
        // A relative symlink to the symlink: resolved step by step.
        Path relative = Files.createSymbolicLink(work.resolve("kv"), work.relativize(link));
        for (Path script : List.of(link, relative)) {
            Product.Result r = Product.run(script, Path.of("/"), Map.of(), "--version");
            assertEquals(0, r.status(), script + ": " + r.both());
            assertTrue(r.out().startsWith("kvmgdb "), r.both());
        }
    }

    @Test
    void kvmgdbPropertiesReachTheJvmFromTheCommandLineAndJavaOpts() throws Exception {
        Path script = Product.home().resolve("bin/kvmgdb");
        Product.Result arg = Product.run(script, work, Map.of(), "-Dkvmgdb.arch=sparc", "plugins");
        assertEquals(2, arg.status(), arg.both());
        assertEquals("kvmgdb: -Dkvmgdb.arch=sparc: no such architecture; known: aarch64, x86-64\n", arg.err());

        Product.Result opts = Product.run(script, work, Map.of("JAVA_OPTS", "-Dkvmgdb.transport=serial"), "plugins");
        assertEquals(2, opts.status(), opts.both());
        assertEquals("kvmgdb: -Dkvmgdb.transport=serial: no such transport; known: stdio, tcp, unix\n", opts.err());

        Product.Result picked = Product.run(script, work, Map.of(), "plugins", "-Dkvmgdb.arch=x86-64");
        assertEquals(0, picked.status(), picked.both());
        assertTrue(Product.pluginRows(picked.out()).get("aarch64").contains("not picked (-Dkvmgdb.arch=x86-64)"), picked.out());
    }

    /** The launcher's classes come from lib/kvmgdb.jsa when the package step made one (it needs a JDK that can dump). */
    @Test
    void theClassDataSharingArchiveIsUsed() throws Exception {
        Path archive = Product.home().resolve("lib/kvmgdb.jsa");
        assumeTrue(Files.isRegularFile(archive), archive + " was not made (see cds-archive.sh's line in the build output)");
        Product.Result r = Product.run(Product.home().resolve("bin/kvmgdb"), work,
                Map.of("JAVA_OPTS", "-Xlog:class+load=info:stdout"), "--version");
        assertEquals(0, r.status(), r.both());
        String main = r.out().lines().filter(l -> l.contains(" org.kvmgdb.launcher.Main ")).findFirst().orElse("");
        assertTrue(main.contains("source: shared objects file"), "Main loaded from the archive: " + main);

        Product.Result without = Product.run(Product.home().resolve("bin/kvmgdb"), work,
                Map.of("JAVA_OPTS", "-Xlog:class+load=info:stdout", "KVMGDB_CDS", "0"), "--version");
        assertEquals(0, without.status(), without.both());
        assertTrue(without.out().lines().anyMatch(l -> l.contains(" org.kvmgdb.launcher.Main source: file:")), without.out());
    }

    /** An archive that no longer fits lib/ (here a copy of the product with a jar added) is left out without a word. */
    @Test
    void anArchiveThatNoLongerFitsIsIgnoredQuietly() throws Exception {
        Path copy = Product.copyTo(work.resolve("kvmgdb"));
        assumeTrue(Files.isRegularFile(copy.resolve("lib/kvmgdb.jsa")), "the package step made no lib/kvmgdb.jsa");
        Files.copy(copy.resolve("lib").resolve(jarNamed(copy.resolve("lib"), "gdb-api-")), copy.resolve("lib/extra.jar"));
        Product.Result r = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "--version");
        assertEquals(0, r.status(), r.both());
        assertEquals("", r.err(), "nothing about the archive: " + r.both());
        assertEquals("kvmgdb " + System.getProperty("kvmgdb.version") + "\n", r.out());
    }

    private static String jarNamed(Path lib, String prefix) throws IOException {
        try (Stream<Path> jars = Files.list(lib)) {
            return jars.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix) && n.endsWith(".jar"))
                    .findFirst().orElseThrow();
        }
    }

    @Test
    void javaHomeIsHonoured() throws Exception {
        Path script = Product.home().resolve("bin/kvmgdb");
        Product.Result wrong = Product.run(script, work, Map.of("JAVA_HOME", work.resolve("no-jdk").toString()), "--version");
        assertEquals(1, wrong.status(), wrong.both());
        assertTrue(wrong.err().contains("JAVA_HOME"), wrong.both());
        Product.Result right = Product.run(script, work, Map.of("JAVA_HOME", System.getProperty("java.home")), "--version");
        assertEquals(0, right.status(), right.both());
    }

    @Test
    void usageErrorsExitTwoNamingTheAcceptedForms() throws Exception {
        List<String> forms = transportSyntaxes();
        for (String gdb : List.of("udp:1234", "serial")) {
            Product.Result r = Product.run(work, "run", "--gdb", gdb, guest.toString());
            assertEquals(2, r.status(), r.both());
            assertEquals(1, r.err().lines().count(), r.both());
            forms.forEach(form -> assertTrue(r.err().contains(form), form + " not named: " + r.err()));
        }
        Product.Result malformed = Product.run(work, "run", "--gdb", "tcp:localhost", guest.toString());
        assertEquals(2, malformed.status(), malformed.both());
        assertTrue(malformed.err().contains("tcp:"), malformed.both());
    }

    @Test
    void aNonLoopbackGdbAddressIsRefusedWithoutAllowRemote() throws Exception {
        Product.Result r = Product.run(work, "run", "--gdb", "tcp:0.0.0.0:1234", guest.toString());
        assertEquals(2, r.status(), r.both());
        assertTrue(r.err().contains("--gdb-allow-remote"), r.both());
    }

    @Test
    void withAllowRemoteTheStubListensOnEveryInterfaceAndTheGuestRuns() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isWritable(java.nio.file.Path.of("/dev/kvm")), "/dev/kvm is missing or not writable");
        java.nio.file.Path e2e = java.nio.file.Path.of("target/guests/e2e.elf").toAbsolutePath();
        Product.Result allowed = Product.run(work, "run", "--gdb", "tcp:0.0.0.0:0", "--gdb-allow-remote", e2e.toString());
        // Not waiting (-S absent): nobody attaches, the e2e guest runs to its end (exit-port 3 → status 7).
        assertEquals(7, allowed.status(), allowed.both());
        assertTrue(allowed.err().contains("waiting for gdb on tcp:0.0.0.0:"), allowed.both());
        // One warning line that says what listening there means.
        List<String> warnings = allowed.err().lines().filter(l -> l.contains("can read and write the whole VM"))
                .collect(Collectors.toList());
        assertEquals(1, warnings.size(), allowed.both());
        assertTrue(warnings.get(0).contains("WARN") && warnings.get(0).contains("tcp:0.0.0.0:")
                && warnings.get(0).contains("anyone who can reach port"), warnings.get(0));

        // The flag alone warns of nothing: a loopback address is as private as without it.
        Product.Result loopback = Product.run(work, "run", "--gdb", "tcp:127.0.0.1:0", "--gdb-allow-remote", e2e.toString());
        assertEquals(7, loopback.status(), loopback.both());
        assertFalse(loopback.err().contains("can read and write the whole VM"), loopback.both());
    }

    /**
     * {@code run} starts the warm-up thread (StartupWarmup), which initialises tinylog's configuration
     * and JNA while picocli parses: --log-level must still decide what a run logs, and a JNA that
     * cannot load must still be named in what the user reads.
     */
    @Test
    void aRunLogsAtTheLevelAskedAndNamesABrokenJna() throws Exception {
        assumeTrue(Files.isWritable(Path.of("/dev/kvm")), "/dev/kvm is missing or not writable");
        String e2e = Path.of("target/guests/e2e.elf").toAbsolutePath().toString();
        Product.Result debug = Product.run(work, "run", "--log-level", "debug", "--gdb", "tcp:127.0.0.1:0", e2e);
        assertEquals(7, debug.status(), debug.both());
        assertTrue(debug.err().lines().anyMatch(l -> l.contains(" DEBUG ")), "debug lines: " + debug.both());
        Product.Result warn = Product.run(work, "run", "--log-level", "warn", "--gdb", "tcp:127.0.0.1:0", e2e);
        assertEquals(7, warn.status(), warn.both());
        assertFalse(warn.err().lines().anyMatch(l -> l.contains(" INFO ") || l.contains(" DEBUG ")),
                "nothing below warn: " + warn.both());

        Product.Result noJna = Product.run(Product.home().resolve("bin/kvmgdb"), work,
                Map.of("JAVA_OPTS", "-Djna.boot.library.path=/nonexistent -Djna.nosys=true -Djna.nounpack=true"),
                "run", "--gdb", "tcp:127.0.0.1:0", e2e);
        assertEquals(1, noJna.status(), noJna.both());
        assertTrue(noJna.err().contains("JNA native support"), "JNA's own message: " + noJna.both());
    }

    @Test
    void badMemoryCpusAndMissingGuestExitTwo() throws Exception {
        Product.Result memory = Product.run(work, "run", "--memory", "lots", guest.toString());
        assertEquals(2, memory.status(), memory.both());
        Product.Result cpus = Product.run(work, "run", "--cpus", "0", guest.toString());
        assertEquals(2, cpus.status(), cpus.both());
        Product.Result missing = Product.run(work, "run", "no-such-guest.elf");
        assertEquals(2, missing.status(), missing.both());
        assertEquals("kvmgdb: GUEST file not found: no-such-guest.elf (see 'kvmgdb run --help')\n", missing.err());
        assertEquals("", missing.out());
    }

    @Test
    void aDuplicateArchitectureJarIsAnErrorNamingBothJars() throws Exception {
        Path copy = Product.copyTo(work.resolve("kvmgdb"));
        Path original = jar(copy, "gdb-arch-x86-");
        Path second = Files.copy(original, copy.resolve("lib/x86-again.jar"));
        Product.Result r = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "plugins");
        assertEquals(1, r.status(), r.both());
        assertTrue(r.err().contains("'x86-64'") && r.err().contains(original.toString()) && r.err().contains(second.toString()),
                r.both());
    }

    @Test
    void aBrokenPluginJarIsSkippedAndListed() throws Exception {
        Path copy = Product.copyTo(work.resolve("kvmgdb"));
        Path broken = copy.resolve("lib/broken-arch.jar");
        try (OutputStream out = Files.newOutputStream(broken); JarOutputStream jar = new JarOutputStream(out)) {
            jar.putNextEntry(new JarEntry("META-INF/services/org.kvmgdb.api.arch.ArchitectureProvider"));
            jar.write("com.example.MissingArch\n".getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
        Product.Result r = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "plugins");
        assertEquals(0, r.status(), r.both());
        assertTrue(Product.pluginRows(r.out()).containsKey("x86-64") && Product.pluginRows(r.out()).containsKey("aarch64"), r.both());
        assertTrue(r.out().contains("Skipped (broken) providers:\n  com.example.MissingArch in " + broken), r.both());
        assertTrue(r.err().contains("WARN") && r.err().contains("com.example.MissingArch"), "logged: " + r.both());
    }

    @Test
    void theTarballHoldsTheSameTreeWithAnExecutableLauncher() throws Exception {
        Path home = Product.home();
        Path tarball = home.resolveSibling("kvmgdb-" + System.getProperty("kvmgdb.version") + ".tar.gz");
        assertTrue(Files.isRegularFile(tarball), tarball + " missing");
        Product.Result listing = Product.run(Path.of("/usr/bin/env"), work, Map.of(), "tar", "tzvf", tarball.toString());
        assertEquals(0, listing.status(), listing.both());
        String top = "kvmgdb-" + System.getProperty("kvmgdb.version") + "/";
        List<String> entries = listing.out().lines().map(l -> l.substring(l.indexOf(top) + top.length()))
                .filter(e -> !e.isEmpty() && !e.endsWith("/")).sorted().collect(Collectors.toList());
        List<String> tree;
        try (Stream<Path> files = Files.walk(home)) {
            tree = files.filter(Files::isRegularFile).map(f -> home.relativize(f).toString())
                    // the CDS archive fits only the JDK that made it, so it stays out of the tarball
                    .filter(f -> !f.equals("lib/kvmgdb.jsa")).sorted().collect(Collectors.toList());
        }
        assertEquals(tree, entries);
        assertFalse(entries.contains("lib/kvmgdb.jsa"), entries.toString());
        Optional<String> launcher = listing.out().lines().filter(l -> l.endsWith(top + "bin/kvmgdb")).findFirst();
        assertTrue(launcher.orElseThrow().startsWith("-rwxr-xr-x"), listing.out());
    }

    /** The transports' accepted forms, as {@code kvmgdb plugins} lists them. */
    private List<String> transportSyntaxes() throws Exception {
        Product.Result r = Product.run(work, "plugins");
        String transports = r.out().substring(r.out().indexOf("Transports:"));
        return transports.lines().skip(2).takeWhile(l -> l.startsWith("  ") && !l.isBlank())
                .map(l -> l.strip().split("\\s+")[1]).collect(Collectors.toList());
    }

    private static Path jar(Path home, String prefix) throws IOException {
        try (Stream<Path> jars = Files.list(home.resolve("lib"))) {
            return jars.filter(j -> j.getFileName().toString().startsWith(prefix)).findFirst().orElseThrow();
        }
    }

    private static void assertJar(Map<String, String> rows, String key, Path lib, String jarPrefix) {
        String row = rows.get(key);
        assertTrue(row != null, key + " is not listed: " + rows.keySet());
        assertTrue(row.matches(".*\\Q" + lib.resolve(jarPrefix) + "\\E[^ ]*\\.jar$"), key + " does not name its jar: " + row);
    }
}

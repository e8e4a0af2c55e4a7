package org.kvmgdb.launcher.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.launcher.Aarch64Elf;

/**
 * Issue 5's "removing its jar from lib/ removes AArch64 and nothing else", and the converse: a copy
 * of the assembled product with one architecture jar deleted still lists and runs the other. The
 * x86 guest is {@code watch.elf} of the end-to-end tests, which ends by writing 23 to the exit port
 * (status 47); the AArch64 guest is {@link Aarch64Elf}, which an x86 host refuses.
 */
class PluginJarRemovalTest {
    /** watch.c: total = sum_readings(2) + counter + origin.y = 10 + 3 + 10; status (23 << 1) | 1. */
    private static final int WATCH_GUEST_STATUS = 47;

    @TempDir
    Path work;

    @Test
    void withoutTheAarch64JarOnlyAarch64IsGoneAndAnX86GuestStillRunsToItsExitStatus() throws Exception {
        Path copy = copyWithout("gdb-arch-aarch64-");
        Product.Result plugins = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "plugins");
        assertEquals(0, plugins.status(), plugins.both());
        Map<String, String> rows = Product.pluginRows(plugins.out());
        assertEquals(List.of("x86-64", "stdio", "tcp", "unix"), List.copyOf(rows.keySet()), plugins.out());
        assertFalse(plugins.out().contains("aarch64"), plugins.out());

        Product.Result arm = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "run", Aarch64Elf.write(work.resolve("arm.elf")).toString());
        assertEquals(2, arm.status(), arm.both());
        assertEquals("kvmgdb: no architecture runs ELF machine 183; installed: x86-64 (ELF machine 62)\n", arm.err());

        requireKvm();
        Product.Result x86 = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "run", guest("watch.elf").toString());
        assertEquals(WATCH_GUEST_STATUS, x86.status(), x86.both());
        assertEquals("watch guest done\n", x86.out());
    }

    @Test
    void withoutTheX86JarAarch64IsStillListedAndX86GuestsAreRefused() throws Exception {
        Path copy = copyWithout("gdb-arch-x86-");
        Product.Result plugins = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "plugins");
        assertEquals(0, plugins.status(), plugins.both());
        Map<String, String> rows = Product.pluginRows(plugins.out());
        assertEquals(List.of("aarch64", "stdio", "tcp", "unix"), List.copyOf(rows.keySet()), plugins.out());
        assertTrue(rows.get("aarch64").contains(" 183 EM_AARCH64 "), rows.get("aarch64"));
        assertTrue(rows.get("aarch64").contains(copy.resolve("lib").toString()), "listed from the copy's lib/: " + rows.get("aarch64"));

        Product.Result x86 = Product.run(copy.resolve("bin/kvmgdb"), work, Map.of(), "run", guest("watch.elf").toString());
        assertEquals(2, x86.status(), x86.both());
        assertEquals("kvmgdb: no architecture runs ELF machine 62; installed: aarch64 (ELF machine 183)\n", x86.err());
    }

    @Test
    void anAarch64GuestOnThisX86HostIsOneLineAndStatus2() throws Exception {
        assumeTrue(List.of("amd64", "x86_64").contains(System.getProperty("os.arch")), "this host is not x86-64");
        Path elf = Aarch64Elf.write(work.resolve("arm.elf"));
        Product.Result r = Product.run(work, "run", elf.toString());
        assertEquals(2, r.status(), r.both());
        assertEquals("kvmgdb: " + elf + " is an aarch64 guest (EM_AARCH64 = 183); this host (" + System.getProperty("os.arch")
                + ") runs x86-64 guests only\n", r.err());
        assertEquals("", r.out());
    }

    private Path copyWithout(String jarPrefix) throws IOException {
        Path copy = Product.copyTo(work.resolve("kvmgdb"));
        try (Stream<Path> jars = Files.list(copy.resolve("lib"))) {
            List<Path> found = jars.filter(j -> j.getFileName().toString().startsWith(jarPrefix)).collect(Collectors.toList());
            assertEquals(1, found.size(), jarPrefix + "*.jar in " + copy.resolve("lib") + ": " + found);
            Files.delete(found.get(0));
        }
        return copy;
    }

    /** A guest the build compiled for the end-to-end tests (target/guests, set by the pom as {@code kvmgdb.guests}). */
    private static Path guest(String name) {
        String dir = System.getProperty("kvmgdb.guests");
        assumeTrue(dir != null, "kvmgdb.guests is not set: run the end-to-end tests with mvn verify");
        Path elf = Path.of(dir, name);
        assumeTrue(Files.isRegularFile(elf), elf + " is missing: the build compiles it with gcc");
        return elf;
    }

    private static void requireKvm() {
        Path kvm = Path.of("/dev/kvm");
        assumeTrue(Files.isReadable(kvm) && Files.isWritable(kvm), "/dev/kvm is missing or not readable and writable by this user");
    }
}

package org.kvmgdb.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.core.kvm.Vm;
import org.kvmgdb.core.registry.ProviderRegistry;
import org.kvmgdb.core.registry.Selection;

/** {@link KvmGuestRunner} on /dev/kvm: which failures get which one-line message. */
class KvmGuestRunnerTest {
    /** The demo guest the build makes before the tests run (exec-maven-plugin, target/guests). */
    private static final Path DEMO = Path.of("target", "guests", "demo.elf");

    @Test
    void aPluginThatCannotDebugIsItsOwnErrorNotABootSizeProblem(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/kvm")), "/dev/kvm is missing");
        assumeTrue(Files.isRegularFile(DEMO), DEMO + " is missing (built by mvn's generate-resources)");
        // A plugin directory of its own, as the registry wants it: the class and its services listing side by side.
        String name = NoRegisterAccess.class.getName();
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(ArchitectureProvider.class.getName()), name + "\n");
        Path classFile = dir.resolve(name.replace('.', '/') + ".class");
        Files.createDirectories(classFile.getParent());
        try (InputStream in = NoRegisterAccess.class.getResourceAsStream("NoRegisterAccess.class")) {
            Files.copy(in, classFile);
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String className, boolean resolve) throws ClassNotFoundException {
                if (!className.equals(name)) {
                    return super.loadClass(className, resolve);
                }
                synchronized (getClassLoadingLock(className)) {
                    Class<?> c = findLoadedClass(className);
                    return c != null ? c : findClass(className); // from the plugin directory, not the test classes
                }
            }
        }) {
            ProviderRegistry registry = ProviderRegistry.load(loader, new Selection(Optional.of("x86-64-no-registers"), Optional.empty()));
            KvmGuestRunner runner = new KvmGuestRunner(new PrintStream(err, true), new ByteArrayOutputStream());

            int status = runner.run(DEMO, Optional.of(registry.parseAddress("tcp::0", TransportOptions.DEFAULTS)), true, 1,
                    Vm.DEFAULT_MEMORY, false, registry, null);

            String text = err.toString(StandardCharsets.UTF_8);
            assertEquals(ExitStatus.FAILURE, status, text);
            assertEquals("kvmgdb: architecture x86-64-no-registers offers no register access, which debugging a KVM guest needs\n", text);
            assertFalse(text.contains("--memory"), text);
        }
    }

    @Test
    void aMachineTheArchitectureCannotBootSuggestsOtherSizes() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/kvm")), "/dev/kvm is missing");
        assumeTrue(Files.isRegularFile(DEMO), DEMO + " is missing (built by mvn's generate-resources)");
        ProviderRegistry registry = ProviderRegistry.load(getClass().getClassLoader(), Selection.NONE);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        KvmGuestRunner runner = new KvmGuestRunner(new PrintStream(err, true), new ByteArrayOutputStream());

        int status = runner.run(DEMO, Optional.empty(), true, 4096, Vm.DEFAULT_MEMORY, false, registry, null);

        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(ExitStatus.USAGE, status, text);
        assertTrue(text.startsWith("kvmgdb: cannot boot this machine: ") && text.endsWith("(try other --memory or --cpus)\n"), text);
    }
}

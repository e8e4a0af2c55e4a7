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
import java.util.OptionalInt;
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

    @Test
    void anAarch64GuestOnAnX86HostIsOneLineAndAUsageError(@TempDir Path dir) throws Exception {
        assumeTrue(PluginsCommand.hostElfMachine().equals(OptionalInt.of(62)), "this host is not x86-64");
        Path elf = Aarch64Elf.write(dir.resolve("arm.elf"));
        ProviderRegistry registry = ProviderRegistry.load(getClass().getClassLoader(), Selection.NONE);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        KvmGuestRunner runner = new KvmGuestRunner(new PrintStream(err, true), new ByteArrayOutputStream());

        int status = runner.run(elf, Optional.empty(), false, 1, Vm.DEFAULT_MEMORY, false, registry, null);

        assertEquals(ExitStatus.USAGE, status);
        assertEquals("kvmgdb: " + elf + " is an aarch64 guest (EM_AARCH64 = 183); this host (" + System.getProperty("os.arch")
                + ") runs x86-64 guests only\n", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anX86GuestOnAnArm64HostIsRefusedTheSameWay() throws Exception {
        assumeTrue(Files.isRegularFile(DEMO), DEMO + " is missing (built by mvn's generate-resources)");
        ProviderRegistry registry = ProviderRegistry.load(getClass().getClassLoader(), Selection.NONE);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        KvmGuestRunner runner = new KvmGuestRunner(new PrintStream(err, true), new ByteArrayOutputStream(), OptionalInt.of(183));

        int status = runner.run(DEMO, Optional.empty(), false, 1, Vm.DEFAULT_MEMORY, false, registry, null);

        assertEquals(ExitStatus.USAGE, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).endsWith("demo.elf is an x86-64 guest (EM_X86_64 = 62); this host ("
                + System.getProperty("os.arch") + ") runs aarch64 guests only\n"), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * On an arm64 host the runner boots an AArch64 ELF with the aarch64 plugin's boot state. Here,
     * pretending to be one, it gets as far as that boot state's first arm64 ioctl, which x86 KVM
     * does not know: that the failure is KVM_ARM_PREFERRED_TARGET shows the VM was made on the
     * plugin's platform, the ELF loaded at 0x4010_0000 and Aarch64BootState called.
     */
    @Test
    void onAnArm64HostAnAarch64GuestIsBootedWithTheAarch64BootState(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/kvm")), "/dev/kvm is missing");
        assumeTrue(PluginsCommand.hostElfMachine().equals(OptionalInt.of(62)), "this host is not x86-64 (on arm64 it would really boot)");
        Path elf = Aarch64Elf.write(dir.resolve("arm.elf"));
        ProviderRegistry registry = ProviderRegistry.load(getClass().getClassLoader(), Selection.NONE);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        KvmGuestRunner runner = new KvmGuestRunner(new PrintStream(err, true), new ByteArrayOutputStream(), OptionalInt.of(183));

        int status = runner.run(elf, Optional.empty(), false, 1, Vm.DEFAULT_MEMORY, false, registry, null);

        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(ExitStatus.FAILURE, status, text);
        // KVM_ARM_PREFERRED_TARGET = _IOR(KVMIO, 0xaf, struct kvm_vcpu_init) = 0x8020aeaf.
        assertTrue(text.startsWith("kvmgdb: ioctl(0x8020aeaf) failed: ENOTTY") && text.lines().count() == 1, text);
    }
}

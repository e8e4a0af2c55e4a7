package org.kvmgdb.launcher;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.core.elf.ElfException;
import org.kvmgdb.core.elf.ElfImage;
import org.kvmgdb.core.kvm.Guest;
import org.kvmgdb.core.kvm.Kvm;
import org.kvmgdb.core.kvm.KvmException;
import org.kvmgdb.core.kvm.KvmTarget;
import org.kvmgdb.core.kvm.KvmUnavailableException;
import org.kvmgdb.core.kvm.Vm;
import org.kvmgdb.core.kvm.VmExit;
import org.kvmgdb.core.registry.ProviderRegistry;
import org.kvmgdb.core.registry.RegistryException;
import org.kvmgdb.core.server.GdbServer;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.session.SessionWarmup;
import org.tinylog.Logger;

/**
 * Runs guests on KVM: reads the ELF, picks its architecture from the registry, boots the VM,
 * serves gdb when asked and waits for the guest to end. The order gives the exit statuses of
 * DESIGN.md: a bad ELF is reported (2) before {@code /dev/kvm} is opened (3), and nothing runs
 * until both are fine.
 */
public final class KvmGuestRunner implements GuestRunner {
    /** How long a debugger gets to read the exit stop reply and hang up before the launcher exits anyway. */
    private static final long SESSION_DRAIN_SECONDS = 5;

    private final PrintStream err;
    private final OutputStream serial;
    private final OutputStream serialBesideStdio;
    /** The ELF machine of the guests KVM runs here: the host CPU's (KVM does not emulate other architectures). */
    private final OptionalInt hostMachine;

    public KvmGuestRunner() {
        // COM1 goes straight to fd 1, unbuffered, so guest output appears as it is written; with
        // --gdb stdio fd 1 carries the protocol, so COM1 goes to fd 2 (gdb shows its child's stderr).
        this(System.err, new FileOutputStream(FileDescriptor.out), new FileOutputStream(FileDescriptor.err), PluginsCommand.hostElfMachine());
    }

    KvmGuestRunner(PrintStream err, OutputStream serial) {
        this(err, serial, PluginsCommand.hostElfMachine());
    }

    /** @param hostMachine the host CPU's ELF machine, as {@link PluginsCommand#hostElfMachine()} finds it (tests pretend other hosts) */
    KvmGuestRunner(PrintStream err, OutputStream serial, OptionalInt hostMachine) {
        this(err, serial, err, hostMachine);
    }

    KvmGuestRunner(PrintStream err, OutputStream serial, OutputStream serialBesideStdio, OptionalInt hostMachine) {
        this.err = err;
        this.serial = serial;
        this.serialBesideStdio = serialBesideStdio;
        this.hostMachine = hostMachine;
    }

    /** {@code --gdb stdio}: the protocol owns stdout, and nothing else may be written there. */
    static boolean onStdio(Optional<TransportAddress> gdb) {
        return gdb.map(a -> a.describe().equals(STDIO)).orElse(false);
    }

    static final String STDIO = "stdio";

    @Override
    public int runGuest(RunConfiguration c) {
        return run(c.guest(), c.gdb(), c.waitForDebugger(), c.cpus(), c.memoryBytes(), c.logPackets(), c.registry(), null);
    }

    @Override
    public int runDemo(DemoConfiguration c) {
        return new DemoSession(this, c, err).run();
    }

    /**
     * Boots and runs one guest.
     *
     * @param announced called with the bound listener and the VM once gdb can connect (the demo starts gdb there); may be null
     */
    int run(Path elf, Optional<TransportAddress> gdb, boolean waitForDebugger, int cpus, long memory, boolean logPackets,
            ProviderRegistry registry, BiConsumer<Listener, Vm> announced) {
        ElfImage image;
        ArchitectureProvider arch;
        try {
            image = ElfImage.read(elf);
            arch = registry.architectureForElfMachine(image.machine()).provider();
        } catch (ElfException | RegistryException e) {
            err.println("kvmgdb: " + e.getMessage());
            return ExitStatus.USAGE;
        }
        Optional<String> foreign = foreignGuest(image, arch, hostMachine);
        if (foreign.isPresent()) {
            err.println("kvmgdb: " + foreign.get());
            return ExitStatus.USAGE;
        }
        Guest booted;
        try {
            booted = Guest.boot(image, arch, new Vm.Config(memory, cpus, onStdio(gdb) ? serialBesideStdio : serial), kvmDevice());
        } catch (ElfException e) {
            err.println("kvmgdb: " + e.getMessage());
            return ExitStatus.USAGE;
        } catch (KvmUnavailableException e) {
            err.println("kvmgdb: " + e.getMessage());
            return ExitStatus.KVM_UNAVAILABLE;
        } catch (KvmException e) {
            err.println("kvmgdb: " + e.getMessage());
            return ExitStatus.FAILURE;
        } catch (IllegalArgumentException e) {
            // A machine the architecture cannot boot: RAM beyond what its boot page tables map, vCPU stacks that do not fit.
            err.println("kvmgdb: cannot boot this machine: " + e.getMessage() + " (try other --memory or --cpus)");
            return ExitStatus.USAGE;
        }
        try (Guest guest = booted) {
            GdbServer server = null;
            Thread cleanup = null;
            try {
                if (gdb.isPresent()) {
                    KvmTarget target = guest.debugTarget(); // before binding: a plugin that cannot debug leaves no listener behind
                    Listener listener = gdb.get().bind();
                    GdbServer started = new GdbServer(listener, target, new SessionOptions(logPackets));
                    server = started;
                    // Ctrl-C or kill: the listener must still go away with the process (a Unix socket file is removed).
                    // The VM goes first: closing the server detaches, and a detach lets a held guest run.
                    cleanup = new Thread(() -> {
                        guest.vm().kill();
                        started.close();
                    }, "kvmgdb-shutdown");
                    Runtime.getRuntime().addShutdownHook(cleanup);
                    // On stdio gdb is there at once: nothing to wait for.
                    Callable<SessionWarmup.Scratch> scratchVm = onStdio(gdb) ? null : ScratchGuest.maker(arch, kvmDevice());
                    if (scratchVm != null) {
                        server.warmUpWhileWaiting(scratchVm);
                    }
                    server.start();
                    String stopped = waitForDebugger ? "; every vCPU is stopped before its first instruction" : "";
                    if (onStdio(gdb)) {
                        // gdb started us and shows this line: it needs no address.
                        err.println("kvmgdb: serving gdb on stdin/stdout; the guest's serial output and the logs go to stderr" + stopped);
                    } else {
                        err.println("kvmgdb: waiting for gdb on " + listener.describe() + " (in gdb: target remote "
                                + listener.gdbTarget() + ")" + stopped);
                    }
                    if (announced != null) {
                        announced.accept(listener, guest.vm());
                    }
                }
                if (!waitForDebugger) {
                    guest.vm().start();
                }
                VmExit exit = guest.vm().awaitExit();
                Logger.debug("{}", exit.description());
                if (server != null) {
                    // An attached gdb has been sent W/X; give it the moment it needs to read it and hang up.
                    server.awaitNoSession(TimeUnit.SECONDS.toMillis(SESSION_DRAIN_SECONDS));
                }
                return exit.status();
            } finally {
                if (server != null) {
                    server.close();
                }
                if (cleanup != null) {
                    try {
                        Runtime.getRuntime().removeShutdownHook(cleanup);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is running or has run; nothing left to undo
                    }
                }
            }
        } catch (KvmException e) {
            err.println("kvmgdb: " + e.getMessage());
            return ExitStatus.FAILURE;
        } catch (IllegalArgumentException e) {
            // The guest booted, but cannot be debugged or served (e.g. a plugin without register access).
            err.println("kvmgdb: " + e.getMessage());
            return ExitStatus.FAILURE;
        } catch (IOException e) {
            // The transports' messages name the address and say what to do; others get it added.
            String address = gdb.map(TransportAddress::describe).orElse("?");
            String why = e.getMessage() != null ? e.getMessage() : e.toString();
            if (why.startsWith(address + ": ")) {
                why = why.substring(address.length() + 2);
            }
            err.println("kvmgdb: cannot listen on " + address + ": " + why);
            return ExitStatus.CANNOT_LISTEN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitStatus.FAILURE;
        }
    }

    /** The system property that names the KVM device to open instead of /dev/kvm (for tests, or a device elsewhere). */
    static final String DEVICE_PROPERTY = "kvmgdb.device";

    /** {@code -Dkvmgdb.device=PATH}, or /dev/kvm. */
    static Path kvmDevice() {
        String device = System.getProperty(DEVICE_PROPERTY);
        return device == null || device.isBlank() ? Kvm.DEVICE : Path.of(device);
    }

    /**
     * Why a guest of {@code arch} cannot run on this host, if it cannot: KVM runs guests of the host's
     * own architecture only. Found before {@code /dev/kvm} is opened, so an arm64 guest on an x86
     * host is one line and status 2, not a failed KVM_ARM_VCPU_INIT.
     */
    static Optional<String> foreignGuest(ElfImage image, ArchitectureProvider arch, OptionalInt host) {
        if (host.isPresent() && host.getAsInt() == arch.elfMachine()) {
            return Optional.empty();
        }
        String runs = host.isEmpty() ? "runs no architecture kvmgdb knows"
                : "runs " + architectureName(host.getAsInt()) + " guests only";
        return Optional.of(image.name() + " is an " + arch.id() + " guest (" + ElfImage.machineName(arch.elfMachine())
                + "); this host (" + System.getProperty("os.arch") + ") " + runs);
    }

    /** A host ELF machine as {@code kvmgdb plugins} names its architecture. */
    private static String architectureName(int elfMachine) {
        switch (elfMachine) {
            case 62: return "x86-64";
            case 183: return "aarch64";
            default: return ElfImage.machineName(elfMachine);
        }
    }

    /** The demo guest shipped in the distribution: {@code share/guests/demo.elf} beside {@code lib/}. */
    static Optional<Path> demoGuest() {
        try {
            Path jar = Path.of(KvmGuestRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path elf = jar.getParent().resolveSibling("share").resolve("guests").resolve("demo.elf");
            return Files.isRegularFile(elf) ? Optional.of(elf) : Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}

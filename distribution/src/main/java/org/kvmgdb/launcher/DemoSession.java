package org.kvmgdb.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.core.kvm.Vm;
import org.tinylog.Logger;

/**
 * {@code kvmgdb demo [--attach]}: the bundled demo guest, stopped before its first instruction and
 * waiting for gdb on {@code tcp::1234} (another port when 1234 is taken), with the exact gdb command
 * printed; with {@code --attach}, that gdb is started on this terminal.
 */
final class DemoSession {
    static final int PREFERRED_PORT = 1234;
    /** After gdb quits, how long the guest may take to finish by itself before the demo ends it. */
    private static final long GUEST_GRACE_MILLIS = 3000;

    private final KvmGuestRunner runner;
    private final DemoConfiguration configuration;
    private final PrintStream err;

    DemoSession(KvmGuestRunner runner, DemoConfiguration configuration, PrintStream err) {
        this.runner = runner;
        this.configuration = configuration;
        this.err = err;
    }

    int run() {
        Optional<Path> demo = KvmGuestRunner.demoGuest();
        if (demo.isEmpty()) {
            err.println("kvmgdb: the demo guest (share/guests/demo.elf) is not installed beside lib/; rebuild the distribution");
            return ExitStatus.FAILURE;
        }
        Path elf = demo.get();
        TransportAddress address = configuration.registry().parseAddress("tcp::" + freePort(), TransportOptions.DEFAULTS);
        return runner.run(elf, Optional.of(address), true, 1, Vm.DEFAULT_MEMORY, false, configuration.registry(),
                (listener, vm) -> announce(elf, listener, vm));
    }

    private void announce(Path elf, Listener listener, Vm vm) {
        List<String> gdb = gdbCommand(elf, listener);
        if (!configuration.attach()) {
            err.println("kvmgdb demo: the demo guest is stopped before its first instruction. Attach gdb with:");
            err.println("    " + String.join(" ", gdb.stream().map(DemoSession::quoted).toList()));
            err.println("then try: break orbit_days, continue, bt, print *p, finish, next, step, info registers, continue");
            return;
        }
        err.println("kvmgdb demo: starting gdb attached to the demo guest; try: break orbit_days, continue, bt, print *p, finish");
        Thread watcher = new Thread(() -> runGdb(gdb, vm), "demo-gdb");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** Runs gdb on this terminal; when it quits, the guest gets a moment to finish, then is ended. */
    private void runGdb(List<String> command, Vm vm) {
        ignoreTerminalInterrupts();
        try {
            Process gdb = new ProcessBuilder(command).inheritIO().start();
            int status = gdb.waitFor();
            Logger.debug("gdb exited with status {}", status);
        } catch (IOException e) {
            err.println("kvmgdb demo: cannot start gdb (" + e.getMessage() + "); install it (apt-get install gdb) or attach by hand");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long deadline = System.currentTimeMillis() + GUEST_GRACE_MILLIS;
        while (vm.exit().isEmpty() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                break;
            }
        }
        if (vm.exit().isEmpty()) {
            vm.kill();
        }
    }

    private static List<String> gdbCommand(Path elf, Listener listener) {
        return List.of("gdb", "-q", "-ex", "directory " + elf.getParent(), "-ex", "target remote " + listener.gdbTarget(), elf.toString());
    }

    /**
     * Ctrl-C on the terminal reaches every process in its foreground group: gdb turns it into an
     * interrupt of the guest, and the launcher must survive it rather than end the VM.
     */
    @SuppressWarnings("restriction")
    private static void ignoreTerminalInterrupts() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> { });
        } catch (IllegalArgumentException e) {
            Logger.debug("cannot ignore SIGINT: {}", e.getMessage());
        }
    }

    /** 1234, QEMU's and gdb users' habit, when it is free; otherwise one the system picks. */
    private static int freePort() {
        try (ServerSocket probe = new ServerSocket(PREFERRED_PORT, 1, InetAddress.getLoopbackAddress())) {
            return PREFERRED_PORT;
        } catch (IOException e) {
            return 0;
        }
    }

    private static String quoted(String word) {
        return word.matches("[A-Za-z0-9_./:=@-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
    }
}

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
 * printed; with {@code --attach}, that gdb is started on this terminal, and the demo ends once both
 * gdb and the guest have.
 */
final class DemoSession {
    static final int PREFERRED_PORT = 1234;
    /** After gdb quits, how long the guest may take to finish by itself before the demo ends it. */
    private static final long GUEST_GRACE_MILLIS = 3000;

    private final KvmGuestRunner runner;
    private final DemoConfiguration configuration;
    private final PrintStream err;
    /** With {@code --attach}: the thread that runs gdb and, once gdb quits, ends the guest. */
    private volatile Thread gdbWatcher;

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
        int status = runner.run(elf, Optional.of(address), true, 1, Vm.DEFAULT_MEMORY, false, configuration.registry(),
                (listener, vm) -> announce(elf, listener, vm));
        awaitGdb();
        return status;
    }

    /**
     * The guest may end while the user is still in gdb (it ran to its end, or gdb killed it): the
     * demo then waits for gdb to quit, so that gdb is never left reading a terminal the shell has
     * taken back.
     */
    private void awaitGdb() {
        Thread watcher = gdbWatcher;
        if (watcher == null) {
            return;
        }
        try {
            watcher.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void announce(Path elf, Listener listener, Vm vm) {
        List<String> gdb = gdbCommand(elf, listener);
        if (!configuration.attach()) {
            err.println("kvmgdb demo: the demo guest is stopped before its first instruction. Attach gdb with:");
            err.println("    " + shellLine(gdb));
            err.println("then try: break orbit_days, continue, bt, print *p, finish, next, step, info registers, continue");
            return;
        }
        err.println("kvmgdb demo: starting gdb attached to the demo guest; try: break orbit_days, continue, bt, print *p, finish");
        Thread watcher = new Thread(() -> runGdb(gdb, vm), "demo-gdb");
        watcher.setDaemon(true);
        gdbWatcher = watcher;
        watcher.start();
    }

    /** Runs gdb on this terminal; when it quits, the guest gets a moment to finish, then is ended. */
    private void runGdb(List<String> command, Vm vm) {
        // Before gdb starts, so that no Ctrl-C can end the launcher under a running gdb.
        Optional<sun.misc.SignalHandler> previous = ignoreTerminalInterrupts();
        Process gdb;
        try {
            gdb = new ProcessBuilder(command).inheritIO().start();
        } catch (IOException e) {
            previous.ifPresent(DemoSession::restoreInterrupts);
            // The guest keeps waiting, as without --attach, for a gdb the user starts; Ctrl-C ends the demo.
            err.println("kvmgdb demo: cannot start gdb (" + e.getMessage() + "); install it (apt-get install gdb), or attach one with:");
            err.println("    " + shellLine(command));
            return;
        }
        try {
            int status = gdb.waitFor();
            Logger.debug("gdb exited with status {}", status);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            gdb.destroy();
        }
        // gdb is gone: Ctrl-C may end the demo again.
        previous.ifPresent(DemoSession::restoreInterrupts);
        long deadline = System.currentTimeMillis() + GUEST_GRACE_MILLIS;
        while (vm.exit().isEmpty() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                break;
            }
        }
        if (vm.exit().isEmpty()) {
            // Quit detached the guest (the stub answers qAttached with 1) and it has not ended by itself.
            err.println("kvmgdb demo: gdb has quit and the guest has not ended by itself; ending it");
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
    private static Optional<sun.misc.SignalHandler> ignoreTerminalInterrupts() {
        try {
            return Optional.of(sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> { }));
        } catch (IllegalArgumentException e) {
            Logger.debug("cannot ignore SIGINT: {}", e.getMessage());
            return Optional.empty();
        }
    }

    @SuppressWarnings("restriction")
    private static void restoreInterrupts(sun.misc.SignalHandler previous) {
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), previous);
    }

    /** 1234, QEMU's and gdb users' habit, when it is free; otherwise one the system picks. */
    private static int freePort() {
        try (ServerSocket probe = new ServerSocket(PREFERRED_PORT, 1, InetAddress.getLoopbackAddress())) {
            return PREFERRED_PORT;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The command as one line to paste into a POSIX shell. */
    private static String shellLine(List<String> command) {
        return String.join(" ", command.stream().map(DemoSession::quoted).toList());
    }

    private static String quoted(String word) {
        return word.matches("[A-Za-z0-9_./:=@-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
    }
}

package org.kvmgdb.core.server;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.core.session.DebugSession;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.session.SessionWarmup;
import org.kvmgdb.core.target.DebugTarget;
import org.tinylog.Logger;

/**
 * Accepts debuggers on a listener and serves them one at a time. While a session is active, a
 * second connection is told why in one line of text and closed; the first is not disturbed. When
 * a session ends, the next debugger may attach. A session whose debugger has already hung up (end
 * of stream, or the stub closed it after {@code D}) is only finishing: a debugger that connects
 * then waits until the target is detached and is served next, instead of being refused, so that a
 * gdb restarted after a crash, or a script that detaches and attaches again, gets in. Runs on its
 * own threads; {@link #close()} stops accepting, ends the active session (the target is detached)
 * and closes the listener.
 */
public final class GdbServer implements AutoCloseable {
    private final Listener listener;
    private final DebugTarget target;
    private final SessionOptions options;
    private final Thread acceptThread;
    private final CopyOnWriteArrayList<Consumer<DebugSession.End>> endListeners = new CopyOnWriteArrayList<>();

    private final Object lock = new Object();
    private DebugSession active;
    private WatchedConnection activeConnection;
    private Thread activeThread;
    private boolean closed;
    /** Asked for by {@link #warmUpWhileWaiting}: null for no warm-up. */
    private Callable<SessionWarmup.Scratch> warmUpScratchVm;
    private volatile SessionWarmup warmup;

    public GdbServer(Listener listener, DebugTarget target, SessionOptions options) {
        this.listener = Objects.requireNonNull(listener, "listener");
        this.target = Objects.requireNonNull(target, "target");
        this.options = Objects.requireNonNull(options, "options");
        this.acceptThread = new Thread(this::acceptLoop, "gdb-accept " + listener.describe());
        acceptThread.setDaemon(true);
    }

    /** Called with how each session ended, on the session's thread, after the target was left as the end requires. */
    public void onSessionEnd(Consumer<DebugSession.End> consumer) {
        endListeners.add(consumer);
    }

    /**
     * Before {@link #start()}: while no debugger has connected yet, warm the session's code up on an
     * in-memory connection driving a scratch VM ({@link SessionWarmup}), never this server's target;
     * ended before the first debugger is served. No warm-up when {@code scratchVm} fails.
     *
     * @param scratchVm makes the scratch VM, on the warm-up's thread
     */
    public GdbServer warmUpWhileWaiting(Callable<SessionWarmup.Scratch> scratchVm) {
        warmUpScratchVm = Objects.requireNonNull(scratchVm, "scratchVm");
        return this;
    }

    /** Starts accepting debuggers. */
    public GdbServer start() {
        if (warmUpScratchVm != null) {
            // Before accepting: a debugger accepted at once must find it to stop it.
            warmup = SessionWarmup.start(warmUpScratchVm);
        }
        acceptThread.start();
        Logger.debug("waiting for a debugger on {} (gdb: target remote {})", listener.describe(), listener.gdbTarget());
        return this;
    }

    public boolean sessionActive() {
        synchronized (lock) {
            return active != null;
        }
    }

    /**
     * Waits until no debugger is attached (the active session, if any, has ended), at most
     * {@code timeoutMillis}. The launcher uses it after the guest ended, so gdb reads the exit
     * reply and hangs up before the process goes.
     *
     * @return true when no session is active
     */
    public boolean awaitNoSession(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        synchronized (lock) {
            while (active != null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    private void acceptLoop() {
        while (true) {
            Connection connection;
            try {
                connection = listener.accept();
            } catch (IOException e) {
                synchronized (lock) {
                    if (!closed) {
                        Logger.error("accepting debuggers on {} failed, no more will be accepted: {}", listener.describe(), e.getMessage());
                    }
                }
                return;
            }
            stopWarmup(); // before any session: the warm-up must not compete with gdb for the CPU
            synchronized (lock) {
                // The previous debugger is gone and its session only detaches the target: wait for it.
                while (!closed && active != null && activeConnection.hungUp()) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        closeQuietly(connection);
                        return;
                    }
                }
                if (closed) {
                    closeQuietly(connection);
                    return;
                }
                if (active != null) {
                    refuse(connection, active.peer());
                    continue;
                }
                try {
                    WatchedConnection watched = new WatchedConnection(connection);
                    DebugSession session = new DebugSession(watched, target, options);
                    active = session;
                    activeConnection = watched;
                    activeThread = new Thread(() -> serve(session), "gdb-session " + connection.peer());
                    activeThread.start();
                } catch (RuntimeException | OutOfMemoryError e) {
                    // This debugger is dropped; the next one may still connect.
                    Logger.error(e, "cannot start a session for a new debugger");
                    active = null;
                    activeConnection = null;
                    activeThread = null;
                    closeQuietly(connection);
                }
            }
        }
    }

    private void stopWarmup() {
        SessionWarmup w = warmup;
        if (w != null) {
            w.stop();
            warmup = null;
        }
    }

    private void serve(DebugSession session) {
        DebugSession.End end = DebugSession.End.CLOSED;
        try {
            end = session.run();
        } finally {
            synchronized (lock) {
                active = null;
                activeConnection = null;
                activeThread = null;
                lock.notifyAll();
            }
            for (Consumer<DebugSession.End> consumer : endListeners) {
                try {
                    consumer.accept(end);
                } catch (RuntimeException e) {
                    Logger.error(e, "session end listener failed");
                }
            }
        }
    }

    private static void refuse(Connection connection, String activePeer) {
        Logger.warn("refused a debugger from {}: one from {} is attached", connection.peer(), activePeer);
        String line = "kvmgdb: a debugger is already attached (from " + activePeer + "); one at a time\n";
        try {
            OutputStream out = connection.output();
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            Logger.debug("telling {} why failed: {}", connection.peer(), e.getMessage());
        }
        closeQuietly(connection);
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (IOException e) {
            Logger.debug("closing {}: {}", connection.peer(), e.getMessage());
        }
    }

    /** Stops accepting, ends the active session (detaching the target) and waits for it to finish. */
    @Override
    public void close() {
        Thread sessionThread;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll(); // a debugger waiting for the previous session to finish is closed instead
            sessionThread = activeThread;
            if (active != null) {
                active.close();
            }
        }
        try {
            listener.close();
        } catch (IOException e) {
            Logger.warn("closing {}: {}", listener.describe(), e.getMessage());
        }
        stopWarmup();
        try {
            acceptThread.join();
            if (sessionThread != null) {
                sessionThread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The active session's connection, watched for the debugger hanging up: its input reached end of
     * stream or failed, or the session closed it. From then on the session is only finishing.
     */
    private static final class WatchedConnection implements Connection {
        private final Connection connection;
        private volatile boolean hungUp;

        WatchedConnection(Connection connection) {
            this.connection = connection;
        }

        boolean hungUp() {
            return hungUp;
        }

        @Override
        public InputStream input() throws IOException {
            return new FilterInputStream(connection.input()) {
                @Override
                public int read() throws IOException {
                    try {
                        return seen(super.read());
                    } catch (IOException e) {
                        hungUp = true;
                        throw e;
                    }
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    try {
                        return seen(super.read(b, off, len));
                    } catch (IOException e) {
                        hungUp = true;
                        throw e;
                    }
                }
            };
        }

        private int seen(int n) {
            if (n < 0) {
                hungUp = true;
            }
            return n;
        }

        @Override
        public OutputStream output() throws IOException {
            return connection.output();
        }

        @Override
        public String peer() {
            return connection.peer();
        }

        @Override
        public void close() throws IOException {
            hungUp = true;
            connection.close();
        }
    }
}

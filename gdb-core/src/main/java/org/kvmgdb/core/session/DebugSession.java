package org.kvmgdb.core.session;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.core.protocol.BreakpointPackets;
import org.kvmgdb.core.protocol.Command;
import org.kvmgdb.core.protocol.FrameBuffer;
import org.kvmgdb.core.protocol.Framing;
import org.kvmgdb.core.protocol.PacketDecoder;
import org.kvmgdb.core.protocol.PacketParser;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.protocol.WireEvent;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;
import org.tinylog.Logger;

/**
 * One debugger's session with a target, all-stop. A reader thread turns the connection's bytes
 * into events; the target's stop reports and {@link #close()} become events too. Each event is
 * handled at once on the thread that produced it, under the session's lock, so one thread at a
 * time writes to gdb or calls the target (except {@link DebugTarget#interrupt()}'s contract allows
 * any): a packet is answered on the reader thread and a stop reply is sent from the thread that
 * reported the stop (the vCPU's own). Handing each event to a session thread cost two context
 * switches per round trip, and on a busy host each is tens of microseconds: a {@code stepi} is two
 * round trips. The thread calling {@link #run()} only starts the session, waits for its end and
 * leaves the target as the end requires.
 *
 * <p>Only a lost connection, {@code D}, {@code k} or {@link #close()} ends a session; bad packets,
 * target errors and bugs in a handler are answered and the session goes on. However it ends, the
 * target is left running without breakpoints ({@link DebugTarget#detach()}), unless gdb killed it
 * or it exited.
 */
public final class DebugSession implements AutoCloseable {
    /**
     * Our {@code PacketSize}: the longest packet payload we accept, and what gdb sizes its bulk
     * transfers by. gdb 13 asks {@code m} for PacketSize / 2 bytes (two hex digits a byte): at 0x4000
     * a 16 MiB dump took 2,049 round trips of 8 KiB, at 256 KiB it takes 129 of 128 KiB, and per
     * round trip gdb and the stub each pay their syscalls, wake-ups and fixed costs. Larger gained
     * nothing clear (1 MiB was measured) and costs memory per session.
     */
    public static final int PACKET_SIZE = 0x40000;

    /** Linux errno for a message too long: the reply to a packet over {@link #PACKET_SIZE}. */
    static final int EMSGSIZE = 90;

    /** The most packets kept while the target runs (gdb sends none in all-stop); more are dropped. */
    static final int MAX_DEFERRED = 64;

    /** How long an ending session waits for a running target to stop after an interrupt. */
    private static final long STOP_WAIT_SECONDS = 30;

    /** How a session ended. */
    public enum End {
        /** gdb sent {@code D}. */
        DETACHED,
        /** gdb sent {@code k}. */
        KILLED,
        /** The connection dropped (EOF or an I/O error). */
        DISCONNECTED,
        /** {@link #close()} was called. */
        CLOSED
    }

    private final Connection connection;
    private final DebugTarget target;
    private final SessionOptions options;
    private final boolean quiet;
    /** Held while an event is handled; waited on for the session's end and, when it ends, for the target's stop. */
    // A ReentrantLock, not a monitor: a vCPU thread reporting a stop while the reader finishes the
    // vCont that started it parks at once instead of spinning on a contended monitor.
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when the session ends and when, after its end, the target's stop arrives. */
    private final Condition changed = lock.newCondition();
    /**
     * Events posted and not yet handled. Only a target that reports a stop from inside {@code resume}
     * (a test double may) adds one while another is being handled on the same thread: it waits here
     * until the handler before it has returned, as it did in a queue.
     */
    private final Deque<SessionEvent> backlog = new ArrayDeque<>();
    private boolean handling;
    /** How the session ended, once it has; events after that only tell {@link #awaitStop()} of the stop. */
    private End ended;
    /** Events posted and events handled (replies flushed): equal when the session has nothing left to do. */
    private final AtomicLong posted = new AtomicLong();
    private final AtomicLong handled = new AtomicLong();
    private final SessionState state;
    private final HandlerTable handlers = new HandlerTable();
    /** Packets that arrived while the target ran; gdb should not send any, but if it does they wait their turn. */
    private final Deque<byte[]> deferred = new ArrayDeque<>();

    private OutputStream out;
    /** The reply being sent, built in one reused buffer. */
    private final FrameBuffer frame = new FrameBuffer(256);
    private boolean noAck;
    private byte[] lastFrame;
    private boolean running;
    /** When the current resume began, for {@code monitor stats}. */
    private long resumedAt;
    /** The guest exited or was killed: nothing left to detach from. */
    private boolean gone;

    public DebugSession(Connection connection, DebugTarget target, SessionOptions options) {
        this(connection, target, options, false);
    }

    /** @param quiet the session's start and end are logged at debug, not info ({@link SessionWarmup}'s: no debugger came) */
    DebugSession(Connection connection, DebugTarget target, SessionOptions options, boolean quiet) {
        this.connection = connection;
        this.target = target;
        this.options = options;
        this.quiet = quiet;
        this.state = new SessionState(target);
        new BaseHandlers(state).register(handlers);
        new ResumeHandlers(state).register(handlers);
        new BreakpointHandlers(state).register(handlers);
        new ThreadHandlers(state).register(handlers);
        new FeatureHandlers(state).register(handlers);
        new MonitorHandlers(state).register(handlers);
        new LldbHandlers(state).register(handlers);
    }

    public String peer() {
        return connection.peer();
    }

    /**
     * Serves the debugger until the session ends, on the calling thread. Closes the connection
     * before it returns.
     */
    public End run() {
        End end;
        try {
            out = new BufferedOutputStream(connection.output(), 8192);
            InputStream in = connection.input();
            target.attach();
            Thread reader = new Thread(() -> read(in), "gdb-reader " + connection.peer());
            reader.setDaemon(true);
            reader.start();
            lifecycle("debugger attached from {}", connection.peer());
            end = awaitEnd();
        } catch (IOException e) {
            Logger.warn("connection from {} failed: {}", connection.peer(), e.getMessage());
            end = End.DISCONNECTED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            end = End.CLOSED;
        } catch (RuntimeException e) {
            // A target that fails outside a packet (attach, say): end the session, not the program.
            Logger.error(e, "debugger session from {} failed", connection.peer());
            end = End.CLOSED;
        }
        lock.lock();
        try {
            if (ended == null) {
                ended = end; // from here on, events only tell awaitStop of the stop
            }
        } finally {
            lock.unlock();
        }
        finish(end);
        closeConnection();
        lifecycle("debugger session from {} ended: {}", connection.peer(), end);
        return end;
    }

    private void lifecycle(String message, Object... arguments) {
        if (quiet) {
            Logger.debug(message, arguments);
        } else {
            Logger.info(message, arguments);
        }
    }

    /** Ends the session from another thread; the target is detached as if the connection dropped. */
    @Override
    public void close() {
        post(new SessionEvent.CloseRequested());
    }

    /**
     * Whether every event queued so far (bytes decoded, stop reports, a close request) has been handled
     * and its replies flushed. Tests use it to know a session has answered what it was sent without
     * sleeping; it says nothing of bytes the reader has not decoded yet.
     */
    public boolean idle() {
        return handled.get() == posted.get();
    }

    /**
     * Whether an event has ended the session ({@code D}, {@code k}, the connection lost, {@link #close()}).
     * From then on nothing more is answered, although {@link #run()} may still be leaving the target.
     */
    public boolean ended() {
        lock.lock();
        try {
            return ended != null;
        } finally {
            lock.unlock();
        }
    }

    /** Events posted and not yet handled (for tests of the reader's flow control). */
    public long pending() {
        return posted.get() - handled.get();
    }

    /** Handles {@code event} on this thread, after any event before it; the first event that ends the session ends it. */
    private void post(SessionEvent event) {
        posted.incrementAndGet();
        lock.lock();
        try {
            backlog.add(event);
            if (handling) {
                return; // reported from inside a handler on this thread: handled when that one returns
            }
            handling = true;
            try {
                SessionEvent next;
                while ((next = backlog.poll()) != null) {
                    handleOne(next);
                    handled.incrementAndGet();
                }
            } finally {
                handling = false;
            }
        } finally {
            lock.unlock();
        }
    }

    /** One event, lock held. */
    private void handleOne(SessionEvent event) {
        if (ended != null) {
            if (event instanceof SessionEvent.Stopped s) {
                running = false;
                gone = !(s.event() instanceof StopEvent.Signal);
                changed.signalAll();
            }
            return;
        }
        End end;
        try {
            end = handle(event);
            if (out != null) { // null only for a close() before run()
                out.flush();
            }
        } catch (IOException e) {
            Logger.warn("connection from {} failed: {}", connection.peer(), e.getMessage());
            end = End.DISCONNECTED;
        } catch (RuntimeException e) {
            Logger.error(e, "debugger session from {} failed", connection.peer());
            end = End.CLOSED;
        }
        if (end != null) {
            ended = end;
            changed.signalAll();
        }
    }

    /** Waits on the thread that called {@link #run()} until an event ended the session. */
    private End awaitEnd() throws InterruptedException {
        lock.lock();
        try {
            while (ended == null) {
                changed.await();
            }
            return ended;
        } finally {
            lock.unlock();
        }
    }

    private void read(InputStream in) {
        PacketDecoder decoder = new PacketDecoder(PACKET_SIZE);
        byte[] buffer = new byte[16384];
        String why = "end of stream";
        try {
            int n;
            // Each event is handled before the next byte is read, so a client that sends faster than
            // the stub answers meets TCP's flow control instead of a growing queue.
            while ((n = in.read(buffer)) >= 0) {
                long garbage = decoder.garbageBytes();
                decoder.feed(buffer, 0, n, e -> post(new SessionEvent.FromGdb(e)));
                if (decoder.garbageBytes() > garbage) {
                    Logger.debug("skipped {} bytes outside packets", decoder.garbageBytes() - garbage);
                }
            }
        } catch (IOException e) {
            why = e.getMessage();
        }
        post(new SessionEvent.ConnectionLost(why));
    }

    /** @return how the session ends, or null to go on */
    private End handle(SessionEvent event) throws IOException {
        if (event instanceof SessionEvent.FromGdb g) {
            return wire(g.event());
        }
        if (event instanceof SessionEvent.Stopped s) {
            return stopped(s.event());
        }
        if (event instanceof SessionEvent.ConnectionLost lost) {
            lifecycle("debugger at {} went away ({})", connection.peer(), lost.why());
            return End.DISCONNECTED;
        }
        return End.CLOSED;
    }

    private End wire(WireEvent event) throws IOException {
        if (event instanceof WireEvent.Packet p) {
            if (options.logPackets()) {
                Logger.info("<- ${}", PacketLog.printable(p.payload()));
            }
            ack(Framing.ACK);
            if (running) {
                if (deferred.size() < MAX_DEFERRED) {
                    deferred.add(p.payload());
                } else {
                    Logger.warn("packet while the target runs dropped, {} are waiting already: {}", MAX_DEFERRED,
                            PacketLog.printable(p.payload()));
                }
                return null;
            }
            return packet(p.payload());
        }
        if (event instanceof WireEvent.Interrupt) {
            if (options.logPackets()) {
                Logger.info("<- ^C");
            }
            if (running) {
                try {
                    target.interrupt();
                } catch (RuntimeException e) {
                    // Only a broken connection or a lost VM ends a session (DESIGN); gdb may press Ctrl-C again.
                    Logger.error(e, "Ctrl-C: interrupting the target failed");
                }
            } else {
                Logger.debug("Ctrl-C while stopped: nothing to interrupt");
            }
            return null;
        }
        if (event instanceof WireEvent.Nak) {
            if (!noAck && lastFrame != null) {
                Logger.debug("NAK: sending the last packet again");
                out.write(lastFrame);
            }
            return null;
        }
        if (event instanceof WireEvent.BadChecksum b) {
            Logger.warn("bad checksum (got {}, computed {}) on packet {}", b.received(), b.computed(), PacketLog.printable(b.payload()));
            if (noAck) {
                Logger.warn("no-ack mode: the corrupted packet is dropped");
            }
            ack(Framing.NAK);
            return null;
        }
        if (event instanceof WireEvent.Oversize o) {
            Logger.warn("packet of {} bytes is over the PacketSize of {} bytes", o.length(), PACKET_SIZE);
            if (!o.checksumOk()) {
                ack(Framing.NAK);
                return null;
            }
            ack(Framing.ACK);
            // While the target runs the only reply gdb may get is the stop reply.
            if (!running) {
                send(Replies.error(EMSGSIZE));
            }
            return null;
        }
        return null; // an ack: gdb got our packet
    }

    private void ack(byte b) throws IOException {
        if (!noAck) {
            out.write(b);
        }
    }

    private End packet(byte[] payload) throws IOException {
        long start = System.nanoTime();
        try {
            return serve(payload);
        } finally {
            state.statistics.packet(payload, System.nanoTime() - start);
        }
    }

    private End serve(byte[] payload) throws IOException {
        Command command = PacketParser.parse(payload);
        Outcome outcome;
        try {
            if (command instanceof Command.Malformed m) {
                Logger.warn("malformed packet {}: {}", m.packet(), m.reason());
                outcome = Outcome.reply(Replies.error(TargetException.EINVAL));
            } else {
                if (command instanceof Command.Unknown u) {
                    Logger.debug("unsupported packet {}", u.name());
                }
                outcome = handlers.dispatch(command);
            }
        } catch (TargetException e) {
            if (command instanceof BreakpointPackets.InsertBreakpoint) {
                // gdb turns any refusal into "You may have requested too many hardware breakpoints/watchpoints";
                // the real reason (e.g. read watchpoints need debug registers) must reach the user somewhere.
                Logger.warn("cannot insert {}: {}", command, e.getMessage());
            } else {
                Logger.debug("{}: {} (errno {})", command.getClass().getSimpleName(), e.getMessage(), e.errno());
            }
            outcome = Outcome.reply(Replies.error(e.errno()));
        } catch (RuntimeException e) {
            // A bug in a handler or the target is answered like an I/O error; the session goes on.
            Logger.error(e, "serving {} failed", command);
            outcome = Outcome.reply(Replies.error(TargetException.EIO));
        }
        return outcome(outcome);
    }

    private End outcome(Outcome outcome) throws IOException {
        if (outcome instanceof Outcome.Reply r) {
            send(r.payload());
        } else if (outcome instanceof Outcome.HexReply h) {
            sendFrame(frame.frameHex(h.data(), h.offset(), h.length()));
        } else if (outcome instanceof Outcome.Packets p) {
            for (byte[] payload : p.payloads()) {
                send(payload);
            }
        } else if (outcome instanceof Outcome.Resume r) {
            resume(r);
        } else if (outcome instanceof Outcome.StartNoAck) {
            send(Replies.OK);
            noAck = true;
            lastFrame = null;
        } else if (outcome instanceof Outcome.Detach) {
            send(Replies.OK);
            return End.DETACHED;
        } else if (outcome instanceof Outcome.Kill) {
            return End.KILLED;
        }
        return null;
    }

    private void resume(Outcome.Resume r) throws IOException {
        running = true;
        resumedAt = System.nanoTime();
        try {
            target.resume(r.request(), stop -> post(new SessionEvent.Stopped(stop)));
        } catch (TargetException e) {
            running = false;
            send(Replies.error(e.errno()));
        } catch (RuntimeException e) {
            running = false;
            Logger.error(e, "resume {} failed", r.request());
            send(Replies.error(TargetException.EIO));
        }
    }

    private End stopped(StopEvent stop) throws IOException {
        if (!running) {
            Logger.warn("stop report {} while not running: ignored", stop);
            return null;
        }
        running = false;
        state.statistics.ran(System.nanoTime() - resumedAt);
        state.stopped(stop);
        gone = !(stop instanceof StopEvent.Signal);
        send(Replies.ascii(state.stopReply(stop)));
        while (!running && !deferred.isEmpty()) {
            End end = packet(deferred.poll());
            if (end != null) {
                return end;
            }
        }
        return null;
    }

    private void send(byte[] payload) throws IOException {
        sendFrame(frame.frame(payload));
    }

    private void sendFrame(FrameBuffer f) throws IOException {
        if (options.logPackets()) {
            Logger.info("-> ${}", PacketLog.printable(f.payload()));
        }
        if (!noAck) {
            lastFrame = f.copy(); // kept for a NAK
        }
        out.write(f.array(), 0, f.length());
    }

    /** Leaves the target as the session's end requires: detached and running, killed, or as it is when gone. */
    private void finish(End end) {
        try {
            if (end == End.KILLED) {
                target.kill();
                return;
            }
            boolean stillRunning;
            lock.lock();
            try {
                stillRunning = running;
            } finally {
                lock.unlock();
            }
            if (stillRunning && !awaitStop()) {
                Logger.error("the target did not stop within {} s of an interrupt; it is not detached", STOP_WAIT_SECONDS);
                return;
            }
            boolean left;
            lock.lock();
            try {
                left = gone;
            } finally {
                lock.unlock();
            }
            if (!left) {
                target.detach();
            }
        } catch (RuntimeException e) {
            Logger.error(e, "leaving the target after the session failed");
        }
    }

    /** Interrupts a running target and waits for its stop report ({@link #handleOne} takes it once the session ended). */
    private boolean awaitStop() {
        target.interrupt();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_SECONDS);
        lock.lock();
        try {
            try {
                while (running) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    changed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void closeConnection() {
        try {
            if (out != null) {
                out.flush();
            }
        } catch (IOException ignored) {
            // the peer is gone; nothing left to tell it
        }
        try {
            connection.close();
        } catch (IOException e) {
            Logger.debug("closing the connection: {}", e.getMessage());
        }
    }
}

package org.kvmgdb.core.session;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.core.protocol.Framing;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.TargetException;
import org.tinylog.Logger;

/**
 * While the stub waits for gdb, a session on an in-memory connection replays what gdb sends at a
 * breakpoint hit and at a {@code stepi} (vCont, qXfer:threads, z0/Z0, m, g, p), so the JIT has
 * compiled the decoder, the handlers, the hex and frame code, the stop reply and the target's resume
 * path by the time gdb sends them (issue 7: a session's first few hundred breakpoint hits ran at about
 * half the warm rate). Its only target is a scratch VM the launcher offers ({@link Scratch}: a loop
 * of the warm-up's own, driven fully); the user's target is never given to it. When no scratch VM
 * can be made there is no warm-up (logged at debug).
 *
 * <p>Bounded: at most {@link #MAX_ROUNDS} rounds and {@link #MAX_MILLIS} ms, on a daemon thread of
 * the lowest priority. {@link #stop()} ends it after the packet being handled, before a real
 * session starts.
 */
public final class SessionWarmup {
    /** Rounds of the script: C1 compiles a method after ~200 calls (Tier3InvocationThreshold). */
    static final int MAX_ROUNDS = 300;
    static final long MAX_MILLIS = 150;

    private final Thread thread;
    private volatile boolean stopped;
    private volatile int rounds;
    private volatile ScriptedConnection connection;
    /** Guards {@link #inSession}: {@link #stop()} waits for a session that has begun, not for a scratch VM still booting. */
    private final Object phase = new Object();
    private boolean inSession;

    /**
     * A target the warm-up may drive entirely, resumes and breakpoints included (a scratch VM running a
     * loop of its own), and what to close after it.
     */
    public record Scratch(DebugTarget target, AutoCloseable resources) {
    }

    private SessionWarmup(Callable<Scratch> scratchVm) {
        this.thread = new Thread(() -> run(scratchVm), "kvmgdb-session-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
    }

    private void run(Callable<Scratch> scratchVm) {
        long start = System.nanoTime();
        if (stopped) {
            return;
        }
        Scratch scratch;
        try {
            scratch = scratchVm.call();
        } catch (Exception | LinkageError e) {
            Logger.debug("session warm-up: no scratch VM ({}); no warm-up", e.toString());
            return;
        }
        try {
            DebugTarget target = scratch.target();
            List<byte[]> script = script(target);
            synchronized (phase) {
                if (stopped) {
                    return;
                }
                inSession = true;
            }
            try {
                new DebugSession(new ScriptedConnection(script), target, SessionOptions.DEFAULTS, true).run();
            } finally {
                synchronized (phase) {
                    inSession = false;
                    phase.notifyAll();
                }
            }
            Logger.debug("session warm-up: {} rounds on a scratch VM in {} ms", rounds, (System.nanoTime() - start) / 1_000_000);
        } catch (TargetException | RuntimeException e) {
            Logger.debug("session warm-up: the scratch VM's pc and stack cannot be read ({}); no warm-up", e.toString());
        } finally {
            try {
                scratch.resources().close();
            } catch (Exception e) {
                Logger.debug("session warm-up: closing the scratch VM: {}", e.toString());
            }
        }
    }

    /**
     * Starts warming up on its own thread.
     *
     * @param scratchVm makes the scratch VM the warm-up drives, on the warm-up's thread; if it fails,
     *     there is no warm-up
     */
    public static SessionWarmup start(Callable<Scratch> scratchVm) {
        SessionWarmup warmup = new SessionWarmup(Objects.requireNonNull(scratchVm, "scratchVm"));
        warmup.thread.start();
        return warmup;
    }

    /**
     * Ends the warm-up after the packet being handled and waits for its session to end. A scratch VM
     * still booting is not waited for: no session starts on it, and it is closed on the warm-up's thread.
     */
    public void stop() {
        stopped = true;
        ScriptedConnection c = connection;
        if (c != null) {
            c.wake(); // a read waiting for a reply
        }
        synchronized (phase) {
            try {
                while (inSession) {
                    phase.wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until the warm-up has ended on its own (its rounds or its time used up), was stopped, or found no scratch VM. */
    public void awaitEnd() throws InterruptedException {
        thread.join();
    }

    /** Rounds of the script served so far (0 when there was no scratch VM). */
    public int rounds() {
        return rounds;
    }

    /**
     * The packets, framed: a set-up like gdb's, then one round of what gdb sends per breakpoint hit
     * and per {@code stepi}, at the addresses of the thread's pc and stack.
     */
    private static List<byte[]> script(DebugTarget target) throws TargetException {
        TargetDescription description = target.description();
        int thread = target.threads().get(0);
        RegisterDescriptor pcRegister = null;
        for (RegisterDescriptor r : description.registers()) {
            if (r.type().equals("code_ptr") && pcRegister == null) {
                pcRegister = r;
            }
        }
        if (pcRegister == null) {
            throw new TargetException(TargetException.EINVAL, "no code_ptr register in the description");
        }
        long pc = littleEndian(target.readRegister(thread, pcRegister.regnum()));
        RegisterDescriptor spRegister = description.register("rsp").or(() -> description.register("sp")).orElse(null);
        // Below the stack's top, where gdb reads a frame; without a stack pointer, the code.
        long sp = spRegister != null ? littleEndian(target.readRegister(thread, spRegister.regnum())) - 0x40 : pc;
        String t = Hex.number(thread);
        // A breakpoint two bytes after the pc: on a scratch VM's loop (nop x4, jmp back) each continue
        // hits it, and after the step off it and three more steps the pc is before it again.
        String breakpoint = Long.toHexString(pc + 2) + ",1";
        List<String> packets = new ArrayList<>();
        // The breakpoint hit (bench/figure.py's bp, as gdb 13 sends it), then three stepi.
        packets.add("vCont;c");
        packets.add("qXfer:threads:read::0,1000");
        packets.add("z0," + breakpoint);
        packets.add("m" + Long.toHexString(sp) + ",40");
        packets.add("m" + Long.toHexString(sp - 0x40) + ",40");
        packets.add("vCont;s:" + t);
        packets.add("Z0," + breakpoint);
        for (int i = 0; i < 3; i++) {
            packets.add("vCont;s:" + t + ";c");
            packets.add("m" + Long.toHexString(sp) + ",40");
        }
        packets.add("m" + Long.toHexString(pc) + ",40");
        packets.add("g");
        packets.add("p" + Hex.number(pcRegister.regnum()));
        packets.add("qXfer:threads:read::0,1000");
        List<byte[]> framed = new ArrayList<>();
        framed.add(frame("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386"));
        framed.add(frame("QStartNoAckMode"));
        framed.add(frame("Hg0"));
        framed.add(frame("?"));
        framed.add(frame("vCont?"));
        framed.add(frame("Z0," + breakpoint));
        for (String p : packets) {
            framed.add(frame(p));
        }
        return framed;
    }

    /** {@code $payload#checksum}. */
    private static byte[] frame(String payload) {
        return Framing.frame(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static long littleEndian(byte[] bytes) {
        long value = 0;
        for (int i = Math.min(8, bytes.length) - 1; i >= 0; i--) {
            value = value << 8 | (bytes[i] & 0xff);
        }
        return value;
    }

    /**
     * gdb's side: one packet per read, each once the reply to the one before has come (a resumed
     * target answers from its vCPU's thread), the set-up once, then the round's packets over and
     * over, until the rounds or the time are used up or {@link #stop()}: then end of stream, and the
     * session ends as when gdb hangs up. What the session writes is only counted: one frame ('$') a reply.
     */
    private final class ScriptedConnection implements Connection {
        /** The set-up packets before the first round. */
        private static final int SETUP = 6;
        private final List<byte[]> script;
        private final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_MILLIS);
        private int next;
        private long sent;
        private long replies;

        ScriptedConnection(List<byte[]> script) {
            this.script = script;
            connection = this;
        }

        synchronized void wake() {
            notifyAll();
        }

        private final InputStream input = new InputStream() {
            @Override
            public int read() {
                throw new UnsupportedOperationException("the session reads whole buffers");
            }

            @Override
            public int read(byte[] buffer, int offset, int length) {
                synchronized (ScriptedConnection.this) {
                    try {
                        long left;
                        while (replies < sent && !stopped && (left = deadline - System.nanoTime()) > 0) {
                            TimeUnit.NANOSECONDS.timedWait(ScriptedConnection.this, left);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return -1;
                    }
                    if (next == script.size()) {
                        rounds++;
                        next = SETUP;
                    }
                    if (stopped || rounds >= MAX_ROUNDS || System.nanoTime() - deadline > 0) {
                        return -1;
                    }
                    byte[] packet = script.get(next++);
                    int n = Math.min(length, packet.length); // the session's buffer is far larger than a packet
                    System.arraycopy(packet, 0, buffer, offset, n);
                    sent++;
                    return n;
                }
            }
        };

        private final OutputStream output = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] data, int offset, int length) {
                int frames = 0;
                for (int i = offset; i < offset + length; i++) {
                    if (data[i] == '$') { // escaped inside a payload: only a frame's start
                        frames++;
                    }
                }
                if (frames > 0) {
                    synchronized (ScriptedConnection.this) {
                        replies += frames;
                        ScriptedConnection.this.notifyAll();
                    }
                }
            }
        };

        @Override
        public InputStream input() {
            return input;
        }

        @Override
        public OutputStream output() {
            return output;
        }

        @Override
        public String peer() {
            return "warm-up";
        }

        @Override
        public void close() throws IOException {
            // nothing to release
        }
    }
}

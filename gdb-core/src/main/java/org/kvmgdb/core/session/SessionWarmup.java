package org.kvmgdb.core.session;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.TargetException;
import org.tinylog.Logger;

/**
 * While the stub waits for gdb, a session on an in-memory connection replays what gdb sends at a
 * breakpoint hit and at a {@code stepi} (vCont, qXfer:threads, z0/Z0, m, g, p), so the JIT has
 * compiled the decoder, the handlers, the hex and frame code and the stop reply by the time gdb
 * sends them (issue 7: the first ~100 breakpoint hits of a session ran at a fifth of the warm
 * rate). The session's target is a {@link ScratchTarget}: nothing of the real guest is changed,
 * and it is read only when the caller says every vCPU is held stopped.
 *
 * <p>Bounded: at most {@link #MAX_ROUNDS} rounds and {@link #MAX_MILLIS} ms, on a daemon thread of
 * the lowest priority. {@link #stop()} ends it after the packet being handled, before a real
 * session starts. Off with {@code -Dkvmgdb.warmup=false} or {@code KVMGDB_WARMUP=0}.
 */
public final class SessionWarmup {
    public static final String PROPERTY = "kvmgdb.warmup";
    public static final String ENVIRONMENT = "KVMGDB_WARMUP";
    /** Rounds of the script: C1 compiles a method after ~200 calls (Tier3InvocationThreshold). */
    static final int MAX_ROUNDS = 300;
    static final long MAX_MILLIS = 200;

    private final Thread thread;
    private final ScriptedConnection connection;
    private volatile boolean stopped;
    private volatile int rounds;

    private SessionWarmup(DebugTarget target, boolean readTarget) {
        ScratchTarget scratch = new ScratchTarget(target, readTarget);
        this.connection = new ScriptedConnection(script(scratch, readTarget));
        DebugSession session = new DebugSession(connection, scratch, SessionOptions.DEFAULTS, true);
        this.thread = new Thread(() -> {
            long start = System.nanoTime();
            session.run();
            Logger.debug("session warm-up: {} rounds in {} ms", rounds, (System.nanoTime() - start) / 1_000_000);
        }, "kvmgdb-session-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
    }

    /** Whether the warm-up is on: unless {@code -Dkvmgdb.warmup=false} or {@code KVMGDB_WARMUP=0}. */
    public static boolean enabled() {
        return !off(System.getProperty(PROPERTY)) && !off(System.getenv(ENVIRONMENT));
    }

    private static boolean off(String value) {
        return value != null && (value.equals("0") || value.equalsIgnoreCase("false") || value.equalsIgnoreCase("off"));
    }

    /**
     * Starts warming up on its own thread.
     *
     * @param target the target the real sessions will serve; only its register table is used, unless {@code readTarget}
     * @param readTarget whether the warm-up may read {@code target}'s registers and memory: only while
     *     every thread is stopped and no session has it (a guest held before its first instruction)
     */
    public static SessionWarmup start(DebugTarget target, boolean readTarget) {
        SessionWarmup warmup = new SessionWarmup(target, readTarget);
        warmup.thread.start();
        return warmup;
    }

    /** Ends the warm-up after the packet being handled and waits for its session to end. */
    public void stop() {
        stopped = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until the warm-up has ended on its own (its rounds or its time used up) or was stopped. */
    public void awaitEnd() throws InterruptedException {
        thread.join();
    }

    /** Rounds of the script served so far. */
    public int rounds() {
        return rounds;
    }

    /**
     * The packets, framed: a set-up like gdb's, then one round of what gdb sends per breakpoint hit
     * and per {@code stepi}, at the addresses of the thread's pc and stack.
     */
    private static List<byte[]> script(ScratchTarget target, boolean readTarget) {
        TargetDescription description = target.description();
        int thread = target.threads().get(0);
        long pc = ScratchTarget.SCRATCH_BASE;
        long sp = ScratchTarget.SCRATCH_BASE + 0x800;
        RegisterDescriptor pcRegister = null;
        for (RegisterDescriptor r : description.registers()) {
            if (r.type().equals("code_ptr") && pcRegister == null) {
                pcRegister = r;
            }
        }
        RegisterDescriptor spRegister = description.register("rsp").or(() -> description.register("sp")).orElse(null);
        if (readTarget) {
            try {
                pc = pcRegister != null ? littleEndian(target.readRegister(thread, pcRegister.regnum())) : pc;
                sp = spRegister != null ? littleEndian(target.readRegister(thread, spRegister.regnum())) - 0x40 : sp;
            } catch (TargetException | RuntimeException e) {
                Logger.debug("session warm-up: the target's pc and stack cannot be read ({}); its addresses are guesses", e.getMessage());
            }
        }
        String t = Hex.number(thread);
        List<String> packets = new ArrayList<>();
        // The breakpoint hit (bench/figure.py's bp, as gdb 13 sends it), then three stepi.
        packets.add("vCont;c");
        packets.add("qXfer:threads:read::0,1000");
        packets.add("z0," + Long.toHexString(pc) + ",1");
        packets.add("m" + Long.toHexString(sp) + ",40");
        packets.add("m" + Long.toHexString(sp - 0x40) + ",40");
        packets.add("vCont;s:" + t);
        packets.add("Z0," + Long.toHexString(pc) + ",1");
        for (int i = 0; i < 3; i++) {
            packets.add("vCont;s:" + t + ";c");
            packets.add("m" + Long.toHexString(sp) + ",40");
        }
        packets.add("m" + Long.toHexString(pc) + ",40");
        packets.add("g");
        if (pcRegister != null) {
            packets.add("p" + Hex.number(pcRegister.regnum()));
        }
        packets.add("qXfer:threads:read::0,1000");
        List<byte[]> framed = new ArrayList<>();
        framed.add(frame("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386"));
        framed.add(frame("QStartNoAckMode"));
        framed.add(frame("Hg0"));
        framed.add(frame("?"));
        framed.add(frame("vCont?"));
        for (String p : packets) {
            framed.add(frame(p));
        }
        return framed;
    }

    private static long littleEndian(byte[] bytes) {
        long value = 0;
        for (int i = Math.min(8, bytes.length) - 1; i >= 0; i--) {
            value = value << 8 | (bytes[i] & 0xff);
        }
        return value;
    }

    /** {@code $payload#checksum}: the checksum is the payload's bytes summed modulo 256. */
    private static byte[] frame(String payload) {
        byte[] p = payload.getBytes(StandardCharsets.ISO_8859_1);
        int sum = 0;
        for (byte b : p) {
            sum += b & 0xff;
        }
        return ("$" + payload + "#" + String.format("%02x", sum & 0xff)).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * gdb's side: one packet per read, the set-up once, then the round's packets over and over, until
     * the rounds or the time are used up or {@link #stop()}: then end of stream, and the session ends
     * as when gdb hangs up. What the session writes is dropped.
     */
    private final class ScriptedConnection implements Connection {
        /** The set-up packets before the first round. */
        private static final int SETUP = 5;
        private final List<byte[]> script;
        private final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_MILLIS);
        private int next;

        ScriptedConnection(List<byte[]> script) {
            this.script = script;
        }

        private final InputStream input = new InputStream() {
            @Override
            public int read() {
                throw new UnsupportedOperationException("the session reads whole buffers");
            }

            @Override
            public int read(byte[] buffer, int offset, int length) {
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
                return n;
            }
        };

        private final OutputStream output = new OutputStream() {
            @Override
            public void write(int b) {
                // dropped
            }

            @Override
            public void write(byte[] data, int offset, int length) {
                // dropped
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

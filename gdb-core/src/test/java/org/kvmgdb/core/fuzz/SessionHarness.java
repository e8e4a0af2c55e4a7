package org.kvmgdb.core.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.kvmgdb.core.session.DebugSession;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.testing.InMemoryConnection;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/**
 * One whole debug session per input: a {@link DebugSession} over an {@link InMemoryConnection}
 * against a {@link MemoryTarget} (x86-64 registers, 4 KiB of memory at 0x1000, two threads,
 * {@code int3} planted for software breakpoints), fed the input one packet or control byte at a
 * time, then hung up on. After each step the harness waits until the session is quiet (everything
 * decoded and answered, no stop report on its way); a running target is interrupted with Ctrl-C
 * before the next step. Invariants, checked on every input:
 * <ul>
 *   <li>no exception escapes the session, and no packet is answered {@code E05} (the session's answer
 *       to a bug in a handler: this target never fails with EIO);</li>
 *   <li>no hang: a watchdog fails the input when a step does not become quiet within
 *       {@link #WATCHDOG_SECONDS} (a hang guard, not a speed check);</li>
 *   <li>everything the stub sends is {@code +}, {@code -} or a {@code $…#cc} frame with the right checksum;</li>
 *   <li>memory equals a shadow model to which an {@code M}/{@code X} write is applied only when the
 *       stub answered it {@code OK}; every {@code m} reply shows the shadow's bytes (never a planted
 *       breakpoint's);</li>
 *   <li>when the session has ended, unless gdb killed the target, no breakpoint byte remains:
 *       memory as the guest sees it equals the shadow.</li>
 * </ul>
 */
final class SessionHarness {
    static final long MEMORY_BASE = 0x1000;
    static final int MEMORY_SIZE = 0x1000;
    static final int THREADS = 2;
    static final byte INT3 = (byte) 0xcc;
    static final long WATCHDOG_SECONDS = 20;

    private SessionHarness() {
    }

    /**
     * How deep the inputs so far reached, so a fuzz run can show that its invariants were really
     * exercised (a mutation engine that only produced garbage would check nothing).
     */
    static final class Counts {
        long sessions;
        /** {@code M}/{@code X} writes answered OK and applied to the shadow. */
        long writesApplied;
        /** {@code m} replies with data compared with the shadow. */
        long readsChecked;
        /** Sessions that ended with software breakpoints planted, not killed: the breakpoint-byte check had work to do. */
        long endedWithBreakpointsPlanted;
        long detached;

        @Override
        public String toString() {
            return sessions + " sessions, " + writesApplied + " writes applied, " + readsChecked + " reads checked, "
                    + endedWithBreakpointsPlanted + " ended with breakpoints planted, " + detached + " detached with D";
        }
    }

    static final Counts COUNTS = new Counts();

    /** What the shadow model starts with, and the target's memory too: not zeros, so a restore to zero is caught. */
    static byte[] initialMemory() {
        byte[] memory = new byte[MEMORY_SIZE];
        for (int i = 0; i < memory.length; i++) {
            memory[i] = (byte) (i * 7 + 3);
        }
        return memory;
    }

    static MemoryTarget newTarget() {
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.x86_64(), "rip")
                .threads(THREADS).memory(MEMORY_BASE, MEMORY_SIZE).entry(MEMORY_BASE)
                .supports(BreakpointType.SOFTWARE, BreakpointType.HARDWARE, BreakpointType.WRITE_WATCHPOINT)
                .plantsSoftwareBreakpoints(INT3).build();
        target.poke(MEMORY_BASE, initialMemory());
        return target;
    }

    /** Runs one input; throws {@link AssertionError} naming the broken invariant. */
    static void check(byte[] input) {
        COUNTS.sessions++;
        boolean planted = false;
        byte[] shadow = initialMemory();
        MemoryTarget target = newTarget();
        InMemoryConnection connection = new InMemoryConnection();
        DebugSession session = new DebugSession(connection, target, SessionOptions.DEFAULTS);
        AtomicReference<DebugSession.End> end = new AtomicReference<>();
        AtomicReference<Throwable> escaped = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                end.set(session.run());
            } catch (Throwable t) {
                escaped.set(t);
            }
        }, "fuzz-session");
        thread.setDaemon(true);
        thread.start();
        try {
            List<Wire.Step> steps = Wire.steps(input);
            awaitQuiet(thread, session, connection, target, false, "the session's start");
            for (int n = 0; n < steps.size(); n++) {
                Wire.Step step = steps.get(n);
                if (!thread.isAlive() || session.ended()) {
                    break; // D or k ended the session: the rest of the input has nobody to read it
                }
                boolean stoppedBefore = target.stopped();
                planted = !target.breakpoints(BreakpointType.SOFTWARE).isEmpty();
                connection.send(step.bytes());
                awaitQuiet(thread, session, connection, target, true, "step " + n + " " + Wire.printable(step.bytes()));
                if (thread.isAlive() && target.runningForDebugger()) {
                    connection.send(new byte[] {0x03});
                }
                awaitQuiet(thread, session, connection, target, false, "step " + n + " and a Ctrl-C if it resumed");
                List<byte[]> replies = Wire.replies(connection.takeOutput());
                for (byte[] reply : replies) {
                    if (Arrays.equals(reply, "E05".getBytes(StandardCharsets.US_ASCII))) {
                        throw new AssertionError("E05 (a handler failed) after step " + n + " " + Wire.printable(step.bytes()));
                    }
                }
                if (stoppedBefore && step.isPacket() && step.payload().length <= DebugSession.PACKET_SIZE) {
                    checkMemoryReply(step, replies, shadow);
                }
            }
            if (thread.isAlive()) {
                planted = !target.breakpoints(BreakpointType.SOFTWARE).isEmpty();
            }
            connection.endOfInput();
            awaitEnd(thread);
            Wire.replies(connection.takeOutput());
            if (escaped.get() != null) {
                throw new AssertionError("an exception escaped the session", escaped.get());
            }
            byte[] debuggerView = new byte[MEMORY_SIZE];
            try {
                target.readMemory(1, MEMORY_BASE, debuggerView, MEMORY_SIZE);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            assertMemory("memory after the session (" + end.get() + ")", shadow, debuggerView);
            if (end.get() == DebugSession.End.DETACHED) {
                COUNTS.detached++;
            }
            if (end.get() != DebugSession.End.KILLED) {
                if (planted) {
                    COUNTS.endedWithBreakpointsPlanted++;
                }
                assertMemory("memory as the guest sees it after the session (" + end.get() + "): a breakpoint byte remains",
                        shadow, target.peek(MEMORY_BASE, MEMORY_SIZE));
            }
        } finally {
            connection.close();
            target.close();
            awaitEnd(thread);
        }
    }

    /** {@code M}/{@code X} answered {@code OK} go into the shadow; {@code m} must show the shadow. */
    private static void checkMemoryReply(Wire.Step step, List<byte[]> replies, byte[] shadow) {
        String text = step.text();
        char op = text.isEmpty() ? 0 : text.charAt(0);
        if (op != 'm' && op != 'M' && op != 'X') {
            return;
        }
        if (replies.size() != 1) {
            throw new AssertionError(replies.size() + " replies to " + Wire.printable(step.payload()) + ", one expected");
        }
        String reply = new String(replies.get(0), StandardCharsets.ISO_8859_1);
        if (op == 'm') {
            if (reply.length() % 2 == 1 && reply.startsWith("E")) {
                return;
            }
            long[] addrLen = MemoryRequest.addressAndLength(text.substring(1));
            byte[] data = MemoryRequest.hex(reply);
            if (addrLen == null || data == null || data.length > addrLen[1]) {
                throw new AssertionError("reply " + reply + " to " + text);
            }
            int offset = shadowOffset(addrLen[0], data.length);
            if (offset < 0 && data.length > 0) {
                throw new AssertionError("reply with " + data.length + " bytes to " + text + " outside memory");
            }
            if (data.length > 0 && !Arrays.equals(data, Arrays.copyOfRange(shadow, offset, offset + data.length))) {
                throw new AssertionError("m shows what was not written: " + text + " -> " + reply);
            }
            COUNTS.readsChecked += data.length > 0 ? 1 : 0;
            return;
        }
        if (!reply.equals("OK")) {
            return;
        }
        MemoryRequest.Write write = MemoryRequest.write(step.payload());
        if (write == null) {
            throw new AssertionError("a malformed write was answered OK: " + Wire.printable(step.payload()));
        }
        if (write.data().length == 0) {
            return;
        }
        int offset = shadowOffset(write.address(), write.data().length);
        if (offset < 0) {
            throw new AssertionError("a write outside memory was answered OK: " + Wire.printable(step.payload()));
        }
        System.arraycopy(write.data(), 0, shadow, offset, write.data().length);
        COUNTS.writesApplied++;
    }

    private static int shadowOffset(long address, int length) {
        long offset = address - MEMORY_BASE;
        if (Long.compareUnsigned(address, MEMORY_BASE) < 0 || offset > MEMORY_SIZE - length) {
            return -1;
        }
        return (int) offset;
    }

    private static void assertMemory(String what, byte[] expected, byte[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) {
                throw new AssertionError(String.format("%s: at 0x%x expected %02x, found %02x", what,
                        MEMORY_BASE + i, expected[i] & 0xff, actual[i] & 0xff));
            }
        }
    }

    /**
     * Waits until the session has decoded everything sent, answered it, and has no stop report on
     * its way; or has ended. The watchdog turns a hang into a failure naming the step.
     */
    private static void awaitQuiet(Thread thread, DebugSession session, InMemoryConnection connection, MemoryTarget target, boolean mayRun, String after) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WATCHDOG_SECONDS);
        while (true) {
            if (!thread.isAlive()) {
                return;
            }
            // In this order: a stop report is posted before the target stops reporting it, and bytes are
            // posted as events before the reader waits again.
            boolean targetQuiet = !target.stopReportPending() || mayRun && target.runningForDebugger();
            if (targetQuiet && connection.readerWaiting() && session.idle()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("hang: the session was not quiet " + WATCHDOG_SECONDS + " s after " + after
                        + "; session thread " + thread.getState() + " at " + Arrays.toString(thread.getStackTrace()));
            }
            LockSupport.parkNanos(20_000);
        }
    }

    private static void awaitEnd(Thread session) {
        try {
            session.join(TimeUnit.SECONDS.toMillis(WATCHDOG_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (session.isAlive()) {
            throw new AssertionError("hang: the session did not end " + WATCHDOG_SECONDS + " s after gdb hung up; at "
                    + Arrays.toString(session.getStackTrace()));
        }
    }
}

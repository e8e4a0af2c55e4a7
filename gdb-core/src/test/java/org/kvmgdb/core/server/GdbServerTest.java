package org.kvmgdb.core.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.kvmgdb.core.testing.TestDescriptions.smallExpedited;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.core.session.DebugSession;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.testing.LoopbackListener;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/** Sessions begin and end: D, k, dropped connections, one debugger at a time, close(). */
class GdbServerTest {

    private static MemoryTarget target() {
        return MemoryTarget.builder(TestDescriptions.small(), "pc").threads(2).instructionSize(4).entry(0x1000).build();
    }

    @Test
    void detachRemovesBreakpointsAndLetsTheGuestRun() throws Exception {
        try (ServedTarget served = new ServedTarget(target()); RspClient gdb = served.connect()) {
            assertEquals("OK", gdb.request("Z0,1100,4"));
            assertEquals("OK", gdb.request("Z1,1200,1"));
            assertEquals("OK", gdb.request("D"));
            assertEquals("", gdb.readToEnd(), "the stub closes the connection after D");
            assertEquals(DebugSession.End.DETACHED, served.awaitSessionEnd());
            assertEquals(1, served.target.detachCount());
            assertEquals(Set.of(), served.target.breakpoints(BreakpointType.SOFTWARE));
            assertEquals(Set.of(), served.target.breakpoints(BreakpointType.HARDWARE));
            assertTrue(served.target.runningFreely());
        }
    }

    @Test
    void killEndsTheGuestAndTheSession() throws Exception {
        try (ServedTarget served = new ServedTarget(target()); RspClient gdb = served.connect()) {
            gdb.sendPacket("k");
            gdb.expect('+');
            assertEquals("", gdb.readToEnd());
            assertEquals(DebugSession.End.KILLED, served.awaitSessionEnd());
            assertTrue(served.target.killed());
            assertEquals(0, served.target.detachCount());
        }
    }

    /** A loopback listener whose first connection breaks as a session is set up for it. */
    private static final class FirstConnectionBreaks implements Listener {
        final LoopbackListener real;
        private boolean first = true;

        FirstConnectionBreaks() throws IOException {
            real = new LoopbackListener();
        }

        @Override
        public Connection accept() throws IOException {
            Connection c = real.accept();
            if (!first) {
                return c;
            }
            first = false;
            return new Connection() {
                @Override public InputStream input() throws IOException { return c.input(); }
                @Override public OutputStream output() throws IOException { return c.output(); }
                @Override public String peer() { throw new IllegalStateException("no peer address (test)"); }
                @Override public void close() throws IOException { c.close(); }
            };
        }

        @Override public String describe() { return real.describe(); }
        @Override public String gdbTarget() { return real.gdbTarget(); }
        @Override public void close() throws IOException { real.close(); }
    }

    @Test
    void aConnectionWhoseSessionCannotStartIsClosedAndTheNextDebuggerIsServed() throws Exception {
        FirstConnectionBreaks listener = new FirstConnectionBreaks();
        MemoryTarget target = target();
        GdbServer server = new GdbServer(listener, target, SessionOptions.DEFAULTS);
        server.start();
        try {
            try (RspClient broken = new RspClient(listener.real.port())) {
                assertEquals("", broken.readToEnd(), "the stub closes the connection it cannot serve");
            }
            try (RspClient gdb = new RspClient(listener.real.port())) {
                assertEquals("QC1", gdb.request("qC"));
            }
        } finally {
            server.close();
            target.close();
        }
    }

    @Test
    void secondDebuggerIsToldWhyAndTheFirstIsUntouched() throws Exception {
        try (ServedTarget served = new ServedTarget(target()); RspClient first = served.connect()) {
            assertEquals("OK", first.request("Z0,1100,4"));
            try (RspClient second = served.connect()) {
                String line = second.readToEnd();
                assertTrue(line.matches("kvmgdb: a debugger is already attached \\(from 127\\.0\\.0\\.1:\\d+\\); one at a time\n"), line);
            }
            // The first session did not notice: same state, still served.
            assertEquals("QC1", first.request("qC"));
            assertEquals(Set.of(0x1100L), served.target.breakpoints(BreakpointType.SOFTWARE));
            assertEquals(0, served.target.detachCount());
            assertTrue(served.server.sessionActive());
        }
    }

    @Test
    void anotherDebuggerMayAttachAfterASessionEndsAndStopsTheGuest() throws Exception {
        try (ServedTarget served = new ServedTarget(target())) {
            try (RspClient first = served.connect()) {
                assertEquals("OK", first.request("D"));
                assertEquals(DebugSession.End.DETACHED, served.awaitSessionEnd());
            }
            assertTrue(served.target.runningFreely());
            assertFalse(served.server.sessionActive());
            try (RspClient second = served.connect()) {
                // The guest the first debugger left running is stopped for the second.
                String stop = second.request("?");
                assertTrue(served.target.stopped());
                assertEquals(2, served.target.attachCount());
                long pc = served.target.pc(1);
                assertEquals("T02thread:1;" + smallExpedited(0, pc), stop);
                second.post("s");
                assertEquals("T05thread:1;" + smallExpedited(0, pc + 4), second.awaitReply());
                assertEquals(pc + 4, served.target.pc(1));
            }
            assertEquals(DebugSession.End.DISCONNECTED, served.awaitSessionEnd());
        }
    }

    @Test
    void droppedConnectionDetachesTheTarget() throws Exception {
        try (ServedTarget served = new ServedTarget(target())) {
            try (RspClient gdb = served.connect()) {
                assertEquals("OK", gdb.request("Z0,1100,4"));
            }
            assertEquals(DebugSession.End.DISCONNECTED, served.awaitSessionEnd());
            assertEquals(1, served.target.detachCount());
            assertEquals(Set.of(), served.target.breakpoints(BreakpointType.SOFTWARE));
            assertTrue(served.target.runningFreely());
        }
    }

    @Test
    void droppedConnectionWhileRunningStopsThenDetaches() throws Exception {
        try (ServedTarget served = new ServedTarget(target())) {
            try (RspClient gdb = served.connect()) {
                assertEquals("OK", gdb.request("Z0,ffff00,4"));
                gdb.post("c");
            }
            assertEquals(DebugSession.End.DISCONNECTED, served.awaitSessionEnd());
            assertEquals(1, served.target.detachCount());
            assertEquals(Set.of(), served.target.breakpoints(BreakpointType.SOFTWARE));
            assertTrue(served.target.runningFreely());
        }
    }

    @Test
    void closingTheServerEndsTheSessionAndDetaches() throws Exception {
        ServedTarget served = new ServedTarget(target());
        try (RspClient gdb = served.connect()) {
            assertEquals("OK", gdb.request("Z0,1100,4"));
            served.server.close();
            assertEquals("", gdb.readToEnd());
            assertEquals(DebugSession.End.CLOSED, served.awaitSessionEnd());
            assertEquals(1, served.target.detachCount());
            assertEquals(Set.of(), served.target.breakpoints(BreakpointType.SOFTWARE));
        } finally {
            served.close();
        }
    }

    @Test
    void sessionsWorkWithPacketLoggingOn() throws Exception {
        try (ServedTarget served = new ServedTarget(target(), new org.kvmgdb.core.session.SessionOptions(true));
             RspClient gdb = served.connect()) {
            byte[] x = {'X', '1', '0', '0', '0', ',', '2', ':', 0x00, '}', '#' ^ 0x20};
            assertEquals("OK", new String(gdb.requestBytes(x), java.nio.charset.StandardCharsets.US_ASCII));
            assertEquals("0023", gdb.request("m1000,2"));
        }
    }

    /**
     * A debugger that connects while the previous one's session is still detaching (that debugger
     * hung up) waits and is served, instead of being told another debugger is attached: a gdb
     * restarted after a crash, or a script that detaches and attaches again, must get in.
     */
    @Test
    void aDebuggerConnectingWhileThePreviousHungUpSessionDetachesIsServedNext() throws Exception {
        try (ServedTarget served = new ServedTarget(target())) {
            RspClient first = served.connect();
            assertEquals("QC1", first.request("qC"));
            Thread session = thread("gdb-session ");
            RspClient second;
            // MemoryTarget's methods are synchronized on it: holding it keeps the session inside detach().
            synchronized (served.target) {
                first.close();
                awaitState(session, Thread.State.BLOCKED);
                second = served.connect();
                // The accept thread waits for that session to finish; a refusal would have sent it back to accept().
                awaitState(thread("gdb-accept "), Thread.State.WAITING);
            }
            try (RspClient next = second) {
                assertEquals("QC1", next.request("qC"));
                assertEquals(DebugSession.End.DISCONNECTED, served.awaitSessionEnd());
                assertEquals(1, served.target.detachCount());
                assertTrue(served.server.sessionActive());
            }
        }
    }

    private static Thread thread(String namePrefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(namePrefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no thread named " + namePrefix + "..."));
    }

    /** Polls a thread's state; a hang guard, not a timing assertion. */
    private static void awaitState(Thread thread, Thread.State state) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(RspClient.READ_TIMEOUT_MILLIS);
        while (thread.getState() != state) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(thread.getName() + " is " + thread.getState() + ", never " + state);
            }
            Thread.sleep(1);
        }
    }
}

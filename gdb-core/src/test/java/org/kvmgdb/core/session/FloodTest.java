package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.testing.InMemoryConnection;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/**
 * A client that sends faster than the stub answers must not grow the stub's memory without bound.
 * Found while building the fuzz and load tests: the reader decoded every byte gdb sent into an
 * unbounded queue, and kept every packet sent while the target ran.
 */
class FloodTest {
    private static final long WATCHDOG_NANOS = TimeUnit.SECONDS.toNanos(20);

    @Test
    void aClientThatFloodsPacketsIsReadNoFasterThanTheSessionAnswers() throws Exception {
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.small(), "pc").memory(0x1000, 0x100).build();
        InMemoryConnection connection = new InMemoryConnection();
        DebugSession session = new DebugSession(connection, target, SessionOptions.DEFAULTS);
        Thread thread = new Thread(session::run, "flood-session");
        thread.start();
        int packets = 10_000;
        ByteArrayOutputStream flood = new ByteArrayOutputStream();
        for (int i = 0; i < packets; i++) {
            flood.writeBytes(RspClient.frame("m1000,1".getBytes(StandardCharsets.US_ASCII), 0x8b));
        }
        awaitReaderStarted(); // after the session's attach, which takes the target's lock too
        // Holding the target's lock keeps the session inside its first read of memory, which the
        // reader thread serves itself: it reads no more until that packet is answered.
        synchronized (target) {
            connection.send(flood.toByteArray());
            Thread reader = awaitReaderBlockedOnTheTarget();
            assertTrue(session.pending() <= 1, session.pending() + " events waiting, more than the one being served");
            assertTrue(connection.unread() > 0, "the reader took every byte although the session answered none");
            assertEquals(Thread.State.BLOCKED, reader.getState());
        }
        // Then every packet is answered, in order.
        int replies = 0;
        long deadline = System.nanoTime() + WATCHDOG_NANOS;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (replies < packets && System.nanoTime() < deadline) {
            out.writeBytes(connection.takeOutput());
            replies = count(out.toString(StandardCharsets.ISO_8859_1), "$00#60");
            LockSupport.parkNanos(1_000_000);
        }
        assertEquals(packets, replies);
        connection.endOfInput();
        thread.join();
        target.close();
    }

    @Test
    void packetsSentWhileTheTargetRunsAreKeptUpToALimit() throws Exception {
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").memory(0x1000, 0x100).build());
             RspClient gdb = served.connect()) {
            assertEquals("OK", gdb.request("QStartNoAckMode"));
            gdb.noAck(true);
            gdb.post("c");
            for (int i = 0; i < 100; i++) {
                gdb.sendPacket("m1000,1");
            }
            gdb.sendRaw(new byte[] {0x03});
            assertTrue(gdb.awaitReply().startsWith("T02"), "the stop reply comes first");
            gdb.sendPacket("qC");
            for (int i = 0; i < DebugSession.MAX_DEFERRED; i++) {
                assertEquals("00", gdb.readPacket(), "reply " + i + " to a packet kept while running");
            }
            assertTrue(gdb.readPacket().startsWith("QC"), "the packets past the limit were dropped");
        }
    }

    private static Thread awaitReaderBlockedOnTheTarget() {
        long deadline = System.nanoTime() + WATCHDOG_NANOS;
        while (System.nanoTime() < deadline) {
            Thread reader = readerThread();
            if (reader != null && reader.getState() == Thread.State.BLOCKED) {
                return reader;
            }
            LockSupport.parkNanos(100_000);
        }
        throw new AssertionError("the reader never started serving the first packet");
    }

    private static void awaitReaderStarted() {
        long deadline = System.nanoTime() + WATCHDOG_NANOS;
        while (readerThread() == null) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the session's reader never started");
            }
            LockSupport.parkNanos(100_000);
        }
    }

    private static Thread readerThread() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("gdb-reader in-memory")) {
                return t;
            }
        }
        return null;
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }

}

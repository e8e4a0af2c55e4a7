package org.kvmgdb.core.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.session.SessionWarmup;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.testing.LoopbackListener;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.TestDescriptions;

/**
 * The warm-up a server runs while it waits for gdb drives a scratch target of its own, never the
 * server's, and a scratch VM that cannot be made only means no warm-up.
 */
class SessionWarmupTest {
    private static final long BASE = 0x1000;
    /** A safety net for a warm-up that never ends, not a speed check. */
    private static final long SAFETY_SECONDS = 60;

    private static MemoryTarget target() {
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.small(), "pc").memory(BASE, 0x2000).entry(BASE + 0x100).build();
        byte[] pattern = new byte[0x2000];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 7 + 3);
        }
        target.poke(BASE, pattern);
        return target;
    }

    /** gdb's session on the real target, as any debugger's: it reads, plants a breakpoint and detaches. */
    private static void serveGdb(GdbServer server, LoopbackListener listener, MemoryTarget real) throws Exception {
        try (RspClient gdb = new RspClient(listener.port())) {
            assertTrue(gdb.request("qSupported:swbreak+").startsWith("PacketSize="));
            assertEquals("03", gdb.request("m1000,1"));
            assertEquals("OK", gdb.request("Z0,1100,4"));
            assertEquals(Set.of(BASE + 0x100), real.breakpoints(BreakpointType.SOFTWARE));
            assertEquals("OK", gdb.request("D"));
            gdb.readToEnd();
            assertTrue(server.awaitNoSession(RspClient.READ_TIMEOUT_MILLIS));
        }
        assertEquals(1, real.attachCount(), "only gdb's session attached");
        assertEquals(1, real.detachCount());
        assertEquals(List.of(), real.resumes(), "something resumed the real target");
    }

    @Test
    void gdbIsServedAsUsualByAServerThatWarmsUpAndTheTargetSeesOnlyGdbsSession() throws Exception {
        MemoryTarget real = target();
        MemoryTarget scratch = target();
        CountDownLatch scratchClosed = new CountDownLatch(1);
        LoopbackListener listener = new LoopbackListener();
        try (GdbServer server = new GdbServer(listener, real, SessionOptions.DEFAULTS).warmUpWhileWaiting(
                () -> new SessionWarmup.Scratch(scratch, () -> {
                    scratch.close();
                    scratchClosed.countDown();
                })).start()) {
            // gdb comes once the warm-up has run its course, so that both have surely happened.
            assertTrue(scratchClosed.await(SAFETY_SECONDS, TimeUnit.SECONDS), "the warm-up never closed its scratch target");
            assertFalse(scratch.resumes().isEmpty(), "the warm-up never resumed its scratch target");
            assertEquals(1, scratch.attachCount());
            serveGdb(server, listener, real);
        }
    }

    @Test
    void aScratchVmThatCannotBeMadeMeansNoWarmUpAndGdbIsServedAsUsual() throws Exception {
        MemoryTarget real = target();
        CountDownLatch asked = new CountDownLatch(1);
        LoopbackListener listener = new LoopbackListener();
        try (GdbServer server = new GdbServer(listener, real, SessionOptions.DEFAULTS).warmUpWhileWaiting(() -> {
            asked.countDown();
            throw new IOException("/dev/kvm: no such device");
        }).start()) {
            assertTrue(asked.await(SAFETY_SECONDS, TimeUnit.SECONDS), "the warm-up never asked for its scratch VM");
            serveGdb(server, listener, real);
        }
    }

    @Test
    void aWarmUpWithoutItsScratchVmServesNoRoundAndEndsQuietly() throws Exception {
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        List<Throwable> escaped = new CopyOnWriteArrayList<>(); // what would reach the user's stderr
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> escaped.add(e));
        try {
            SessionWarmup warmup = SessionWarmup.start(() -> {
                throw new UnsatisfiedLinkError("no JNA");
            });
            warmup.awaitEnd();
            assertEquals(0, warmup.rounds());
            assertEquals(List.of(), escaped);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }
}

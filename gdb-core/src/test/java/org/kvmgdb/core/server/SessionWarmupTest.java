package org.kvmgdb.core.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.session.DebugSession;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.session.SessionWarmup;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.testing.LoopbackListener;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.TestDescriptions;

/** The warm-up a server runs while it waits for gdb changes nothing of the target and gives way to gdb. */
class SessionWarmupTest {
    private static final long BASE = 0x1000;

    private static MemoryTarget target() {
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.small(), "pc").instructionSize(4).memory(BASE, 0x2000)
                .entry(BASE + 0x100).build();
        byte[] pattern = new byte[0x2000];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 7 + 3);
        }
        target.poke(BASE, pattern);
        return target;
    }

    @Test
    void aWarmUpReadingTheTargetLeavesItsMemoryRegistersBreakpointsAndRunStateAlone() throws Exception {
        MemoryTarget target = target();
        byte[] memoryBefore = target.peek(BASE, 0x2000);
        byte[] registersBefore = target.readRegisters(1);

        SessionWarmup warmup = SessionWarmup.start(target, true);
        warmup.awaitEnd();

        assertTrue(warmup.rounds() > 0, "the warm-up served no round of its script");
        assertArrayEquals(memoryBefore, target.peek(BASE, 0x2000));
        assertArrayEquals(registersBefore, target.readRegisters(1));
        assertEquals(Set.of(), target.breakpoints(BreakpointType.SOFTWARE));
        assertEquals(List.of(), target.resumes(), "the warm-up resumed the real target");
        assertEquals(0, target.attachCount());
        assertEquals(0, target.detachCount());
        assertTrue(target.stopped());
    }

    @Test
    void gdbIsServedAsUsualByAServerThatWarmsUpAndTheTargetSeesOnlyGdbsSession() throws Exception {
        MemoryTarget target = target();
        LoopbackListener listener = new LoopbackListener();
        try (GdbServer server = new GdbServer(listener, target, SessionOptions.DEFAULTS).warmUpWhileWaiting(true).start();
                RspClient gdb = new RspClient(listener.port())) {
            assertTrue(gdb.request("qSupported:swbreak+").startsWith("PacketSize="));
            assertEquals("03", gdb.request("m1000,1"));
            assertEquals("OK", gdb.request("Z0,1100,4"));
            assertEquals(Set.of(BASE + 0x100), target.breakpoints(BreakpointType.SOFTWARE));
            assertEquals("OK", gdb.request("D"));
            gdb.readToEnd();
            assertTrue(server.awaitNoSession(RspClient.READ_TIMEOUT_MILLIS));
        }
        assertEquals(1, target.attachCount(), "only gdb's session attached");
        assertEquals(1, target.detachCount());
        assertEquals(List.of(), target.resumes());
    }

    @Test
    void thePropertyTurnsItOff() {
        String before = System.getProperty(SessionWarmup.PROPERTY);
        try {
            System.setProperty(SessionWarmup.PROPERTY, "false");
            assertFalse(SessionWarmup.enabled());
            System.setProperty(SessionWarmup.PROPERTY, "off");
            assertFalse(SessionWarmup.enabled());
        } finally {
            if (before == null) {
                System.clearProperty(SessionWarmup.PROPERTY);
            } else {
                System.setProperty(SessionWarmup.PROPERTY, before);
            }
        }
    }
}

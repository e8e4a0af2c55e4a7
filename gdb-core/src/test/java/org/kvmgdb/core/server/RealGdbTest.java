package org.kvmgdb.core.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.session.DebugSession;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;
import org.kvmgdb.core.testing.BatchGdb;

/**
 * Real gdb (batch mode) against the session and a MemoryTarget, over loopback TCP: proves the
 * engine speaks gdb's dialect (qSupported, qXfer target.xml, vCont, Z0 with swbreak, X, detach).
 * distribution's end-to-end tests do the same through the real transports and the launcher.
 */
class RealGdbTest {

    @Test
    void gdbReadsRegistersAndMemoryBreaksStepsAndDetaches() throws Exception {
        BatchGdb.assumeInstalled();
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.x86_64(), "rip")
                .threads(2).instructionSize(1).memory(0x100000, 0x10000).entry(0x100000).build();
        target.poke(0x100010, new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef});
        try (ServedTarget served = new ServedTarget(target, new SessionOptions(true))) {
            String out = BatchGdb.run(null, served.listener.gdbTarget(),
                    "info registers rip",
                    "x/4xb 0x100010",
                    "set {char}0x100010 = 1",
                    "x/1xb 0x100010",
                    "break *0x100020",
                    "continue",
                    "info registers rip",
                    "stepi",
                    "info registers rip",
                    "info threads",
                    "detach");
            assertTrue(out.matches("(?s).*rip\\s+0x100000\\s.*"), out);
            assertTrue(out.contains("0x100010:\t0xde\t0xad\t0xbe\t0xef"), out);
            assertTrue(out.contains("0x100010:\t0x01"), out);
            assertTrue(out.contains("Breakpoint 1 at 0x100020"), out);
            // qXfer:threads:read gives gdb each thread's name, shown in quotes, and where it stands.
            assertTrue(out.matches("(?s).*Thread 1 \"cpu 0\" hit Breakpoint 1, 0x0*100020 in.*"), out);
            assertTrue(out.matches("(?s).*rip\\s+0x100020\\s.*"), out);
            assertTrue(out.matches("(?s).*rip\\s+0x100021\\s.*"), out);
            assertTrue(out.matches("(?s).*Thread 2 \"cpu 1\" \\(stopped at 0x[0-9a-f]+\\).*"), out);
            assertTrue(out.contains("[Inferior 1 (Remote target) detached]"), out);

            assertArrayEquals(new byte[] {1, (byte) 0xad}, target.peek(0x100010, 2));
            assertEquals(DebugSession.End.DETACHED, served.awaitSessionEnd());
            assertEquals(1, target.detachCount());
            assertEquals(Set.of(), target.breakpoints(BreakpointType.SOFTWARE));
        }
    }
}

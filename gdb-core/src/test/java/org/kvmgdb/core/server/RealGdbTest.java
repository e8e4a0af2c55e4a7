package org.kvmgdb.core.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

    /**
     * gdb sizes its memory requests by our PacketSize: a {@code dump} asks for PacketSize / 2 bytes
     * per {@code m} (gdb 13 applies no smaller cap of its own) and a {@code restore} sends binary
     * {@code X} packets of up to PacketSize; the bytes come back exactly, runs of zeros and random
     * bytes alike.
     */
    @Test
    void gdbMovesLargeBlocksInPacketSizedRequests(@TempDir Path dir) throws Exception {
        BatchGdb.assumeInstalled();
        int size = 3 * DebugSession.PACKET_SIZE; // 768 KiB: several requests each way
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.x86_64(), "rip")
                .memory(0x100000, size).entry(0x100000).build();
        byte[] data = new byte[size];
        new Random(5).nextBytes(data);
        Arrays.fill(data, 0x1000, 0x30000, (byte) 0); // a long run, sent run-length encoded
        Path in = Files.write(dir.resolve("in.bin"), data);
        Path out = dir.resolve("out.bin");
        String perRequest = Integer.toHexString(DebugSession.PACKET_SIZE / 2);
        try (ServedTarget served = new ServedTarget(target)) {
            String log = BatchGdb.run(null, served.listener.gdbTarget(),
                    "restore " + in + " binary 0x100000",
                    "set debug remote 1",
                    "dump binary memory " + out + " 0x100000 0x" + Long.toHexString(0x100000 + size),
                    "set debug remote 0",
                    "detach");
            assertArrayEquals(data, target.peek(0x100000, size), "what restore wrote");
            assertArrayEquals(data, Files.readAllBytes(out), "what dump read");
            assertTrue(log.contains("$m100000," + perRequest + "#"), "the first m asks PacketSize / 2 bytes: " + tail(log));
            assertTrue(log.contains("$m" + Long.toHexString(0x100000 + DebugSession.PACKET_SIZE / 2) + "," + perRequest + "#"),
                    "the next one goes on where the whole first reply ended: " + tail(log));
            assertFalse(log.contains(",2000#"), "no 8 KiB requests: " + tail(log));
        }
    }

    private static String tail(String log) {
        return log.length() < 4000 ? log : log.substring(log.length() - 4000);
    }
}

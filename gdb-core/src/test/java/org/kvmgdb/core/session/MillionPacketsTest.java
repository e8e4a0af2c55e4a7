package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/**
 * One session, one million packets: {@code m}, {@code g}, {@code p}, {@code Z0} and {@code z0} in
 * turn, over a loopback TCP socket (the test kit's {@link org.kvmgdb.core.testing.LoopbackListener},
 * the same socket streams a TCP transport hands the session) against a {@link MemoryTarget} that
 * plants breakpoints. Every reply is checked against what the target holds. The client keeps up to
 * {@link #WINDOW} packets in flight (in no-ack mode), as a debugger's packets would be queued if it
 * pipelined, so the run takes seconds rather than a million round trips; the stub still answers
 * them one by one in order.
 *
 * <p>Leak checks, not timing checks: the heap in use after a GC, sampled every tenth of the run
 * after a warm-up, must not grow by more than {@link #HEAP_GROWTH_LIMIT} from the first samples to
 * the last; and every thread the session started must be gone once it has ended.
 * {@code -Dkvmgdb.load.packets=N} changes the count.
 */
class MillionPacketsTest {
    private static final int PACKETS = Integer.getInteger("kvmgdb.load.packets", 1_000_000);
    private static final int WINDOW = 64;
    /** Generous: a leak of 16 bytes per packet over a million packets would pass it. */
    private static final long HEAP_GROWTH_LIMIT = 16L << 20;
    private static final long MEMORY_BASE = 0x1000;
    private static final int MEMORY_SIZE = 0x1000;

    @Test
    void aMillionMixedPacketsAreAllAnsweredRightWithoutGrowingTheHeapOrLeavingThreads() throws Exception {
        Set<Thread> threadsBefore = new HashSet<>(Thread.getAllStackTraces().keySet());
        MemoryTarget target = MemoryTarget.builder(TestDescriptions.small(), "pc")
                .memory(MEMORY_BASE, MEMORY_SIZE).entry(MEMORY_BASE).plantsSoftwareBreakpoints((byte) 0xcc).build();
        byte[] memory = new byte[MEMORY_SIZE];
        for (int i = 0; i < memory.length; i++) {
            memory[i] = (byte) (i * 13 + 5);
        }
        target.poke(MEMORY_BASE, memory);
        target.setPc(1, 0x1122334455667788L);
        String registers = Hex.encode(target.readRegisters(1));
        int registerCount = target.description().registers().size();
        String[] register = new String[registerCount];
        for (int r = 0; r < registerCount; r++) {
            register[r] = Hex.encode(target.readRegister(1, r));
        }

        List<Long> heap = new ArrayList<>();
        try (ServedTarget served = new ServedTarget(target)) {
            try (RspClient handshake = served.connect()) {
                assertEquals("OK", handshake.request("QStartNoAckMode"));
                handshake.noAck(true);
                Socket socket = handshake.socket();
                Semaphore window = new Semaphore(WINDOW);
                AtomicReference<Throwable> writerFailed = new AtomicReference<>();
                Thread writer = new Thread(() -> {
                    try {
                        OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 8192);
                        for (int i = 0; i < PACKETS; i++) {
                            if (!window.tryAcquire()) {
                                out.flush();
                                window.acquire();
                            }
                            out.write(RspClient.frame(packet(i), RspClient.checksum(packet(i))));
                        }
                        out.flush();
                    } catch (Throwable t) {
                        writerFailed.set(t);
                    }
                }, "million-packets writer");
                writer.start();

                InputStream in = new BufferedInputStream(socket.getInputStream(), 65536);
                MemoryMXBean memoryBean = ManagementFactory.getMemoryMXBean();
                int sampleEvery = Math.max(1, PACKETS / 10);
                for (int i = 0; i < PACKETS; i++) {
                    String reply = readPacket(in);
                    window.release();
                    String expected = expected(i, memory, registers, register);
                    if (!expected.equals(reply)) {
                        throw new AssertionError("packet " + i + " " + new String(packet(i), StandardCharsets.US_ASCII)
                                + ": expected " + expected + ", got " + reply);
                    }
                    if (i % sampleEvery == sampleEvery - 1) {
                        System.gc();
                        heap.add(memoryBean.getHeapMemoryUsage().getUsed());
                    }
                }
                writer.join();
                if (writerFailed.get() != null) {
                    throw new AssertionError("the writer failed", writerFailed.get());
                }
                assertEquals("OK", handshake.request("D"));
            }
            assertEquals(DebugSession.End.DETACHED, served.awaitSessionEnd());
        }
        target.close();
        assertTrue(target.breakpoints(BreakpointType.SOFTWARE).isEmpty(), "breakpoints left after detach");

        System.out.println("heap in use after GC, every " + PACKETS / 10 + " packets: " + heap);
        // The first sample is the warm-up's (JIT, class loading, buffers reaching their size).
        long early = Math.min(heap.get(1), heap.get(2));
        long late = Math.min(heap.get(heap.size() - 1), heap.get(heap.size() - 2));
        assertTrue(late - early < HEAP_GROWTH_LIMIT,
                "heap grew by " + (late - early) / 1024 + " KiB from the first samples to the last: " + heap);

        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            ThreadGroup group = thread.getThreadGroup();
            // The JVM's own threads (attach listener, cleaners) live in the system group; ours do not.
            if (!threadsBefore.contains(thread) && group != null && !group.getName().equals("system")
                    && !thread.getName().startsWith("Innocuous")) {
                // A bound for threads on their way out, not a speed check.
                thread.join(10_000);
                assertTrue(!thread.isAlive(), "thread left behind: " + thread.getName());
            }
        }
    }

    /** Packet i of the mix: four {@code m} of varying size and place, {@code g}, {@code p}, {@code Z0}, {@code z0}. */
    private static byte[] packet(int i) {
        String p;
        switch (i % 8) {
            case 0: case 1: case 2: case 3:
                p = "m" + Long.toHexString(address(i)) + "," + Integer.toHexString(1 + i % 64);
                break;
            case 4:
                p = "g";
                break;
            case 5:
                p = "p" + Integer.toHexString(i / 8 % 6);
                break;
            case 6:
                p = "Z0," + Long.toHexString(breakpoint(i)) + ",1";
                break;
            default:
                p = "z0," + Long.toHexString(breakpoint(i - 1)) + ",1";
                break;
        }
        return p.getBytes(StandardCharsets.US_ASCII);
    }

    private static long address(int i) {
        return MEMORY_BASE + (i * 37L) % (MEMORY_SIZE - 64);
    }

    private static long breakpoint(int i) {
        return MEMORY_BASE + (i * 11L) % MEMORY_SIZE;
    }

    private static String expected(int i, byte[] memory, String registers, String[] register) {
        switch (i % 8) {
            case 0: case 1: case 2: case 3:
                int offset = (int) (address(i) - MEMORY_BASE);
                // m never shows a planted breakpoint's byte: the memory as it was poked.
                return Hex.encode(memory, offset, 1 + i % 64);
            case 4:
                return registers;
            case 5:
                return register[i / 8 % 6];
            default:
                return "OK";
        }
    }

    private static String readPacket(InputStream in) throws IOException {
        int b = in.read();
        if (b != '$') {
            throw new IOException("expected a packet, got " + b);
        }
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        while ((b = in.read()) != '#') {
            if (b < 0) {
                throw new IOException("end of stream inside a packet");
            }
            payload.write(b);
        }
        byte[] p = payload.toByteArray();
        int checksum = Integer.parseInt(new String(new byte[] {(byte) in.read(), (byte) in.read()}, StandardCharsets.US_ASCII), 16);
        if (checksum != RspClient.checksum(p)) {
            throw new IOException("bad checksum on " + new String(p, StandardCharsets.ISO_8859_1));
        }
        return new String(RspClient.expandRuns(p), StandardCharsets.ISO_8859_1); // as gdb reads it
    }
}

package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/**
 * No packet allocates without bound: the advertised {@code PacketSize} is the most the stub keeps
 * of one. A packet hundreds of times longer is drained as it streams in, answered with an error
 * (its checksum was right, so it is acked; it cannot be served), and the session goes on. The
 * bound is measured as what the session's reader thread allocated while the packet streamed in
 * (HotSpot's per-thread allocation counter), not assumed from the code.
 */
class PacketSizeLimitTest {
    /** 64 MiB, 256 times PacketSize. */
    private static final int HUGE = 64 << 20;
    /** What the reader may allocate for any one packet: its buffer doubles up to PacketSize, plus small change. */
    private static final long ALLOCATION_BOUND = 2L * DebugSession.PACKET_SIZE + (1 << 19);

    private ServedTarget served;
    private RspClient gdb;

    @BeforeEach
    void start() throws Exception {
        served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").memory(0x10000, 0x40000).build());
        gdb = served.connect();
    }

    @AfterEach
    void stop() throws Exception {
        gdb.close();
        served.close();
    }

    @Test
    void aPacketThousandsOfTimesPacketSizeGetsAnErrorAllocatesLittleAndTheSessionGoesOn() throws Exception {
        assertEquals("1", gdb.request("qAttached")); // the session and its reader thread are up
        long before = readerAllocatedBytes();

        // M10000,<HUGE/2>:aaaa... with a correct checksum, sent in slices as gdb's writes would come.
        byte[] head = String.format("$M10000,%x:", HUGE / 2).getBytes(StandardCharsets.US_ASCII);
        int sum = 0;
        for (int i = 1; i < head.length; i++) {
            sum += head[i];
        }
        gdb.sendRaw(head);
        byte[] slice = new byte[1 << 16];
        Arrays.fill(slice, (byte) 'a');
        int payload = head.length - 1;
        while (payload + slice.length <= HUGE) {
            gdb.sendRaw(slice);
            sum += 'a' * slice.length;
            payload += slice.length;
        }
        gdb.sendRaw(String.format("#%02x", sum & 0xff));

        // The manual prescribes no particular reply for a packet over PacketSize; a well-framed one is
        // acked and answered with an error, E5a (EMSGSIZE), as for any request that cannot be served.
        gdb.expect('+');
        assertEquals(String.format("E%02x", DebugSession.EMSGSIZE), gdb.readPacket());
        long allocated = readerAllocatedBytes() - before;
        assertTrue(allocated < ALLOCATION_BOUND, "the reader allocated " + allocated + " bytes for a packet of " + payload);

        assertEquals(0, served.target.peek(0x10000, 1)[0], "the oversize write did not happen");
        assertEquals("1", gdb.request("qAttached"));
        assertEquals("OK", gdb.request("M10000,1:5a"));
        assertEquals("5a", gdb.request("m10000,1"));
    }

    @Test
    void aPacketThatNeverEndsIsDroppedWhenTheNextOneStarts() throws Exception {
        assertEquals("1", gdb.request("qAttached"));
        long before = readerAllocatedBytes();
        gdb.sendRaw("$M10000,10:");
        byte[] slice = new byte[1 << 16];
        Arrays.fill(slice, (byte) '5');
        for (int sent = 0; sent < HUGE; sent += slice.length) {
            gdb.sendRaw(slice);
        }
        // No '#' ever came: a raw '$' means the packet before was cut (gdb escapes '$' in data).
        assertEquals("QC1", gdb.request("qC"));
        long allocated = readerAllocatedBytes() - before;
        assertTrue(allocated < ALLOCATION_BOUND, "the reader allocated " + allocated + " bytes");
        assertEquals(0, served.target.peek(0x10000, 1)[0]);
    }

    /** Bytes the session's reader thread ("gdb-reader ...") has allocated so far. */
    private static long readerAllocatedBytes() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocation per thread (com.sun.management.ThreadMXBean)");
        Thread reader = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("gdb-reader ")).findFirst()
                .orElseThrow(() -> new AssertionError("no gdb-reader thread"));
        return threads.getThreadAllocatedBytes(reader.getId());
    }
}

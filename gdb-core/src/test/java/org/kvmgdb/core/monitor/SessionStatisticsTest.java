package org.kvmgdb.core.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionStatisticsTest {

    /**
     * Found while building the fuzz and load tests: every new {@code q} packet name got its own entry,
     * so a client inventing names (a fuzzer, a hostile peer) grew the session's memory without bound.
     */
    @Test
    void packetTypesStayBoundedWhenTheClientInventsNames() {
        SessionStatistics statistics = new SessionStatistics();
        statistics.packet(bytes("m1000,4"), 10);
        for (int i = 0; i < 100_000; i++) {
            statistics.packet(bytes("qInvented" + i + ":x"), 1);
        }
        statistics.packet(bytes("m1000,4"), 10);

        Map<String, long[]> packets = statistics.packets();
        assertEquals(SessionStatistics.MAX_TYPES, packets.size());
        assertEquals(2, packets.get("m")[0], "a type seen before the limit is still counted apart");
        long counted = packets.values().stream().mapToLong(c -> c[0]).sum();
        assertEquals(100_002, counted, "no packet goes uncounted");
        assertEquals(100_000 - (SessionStatistics.MAX_TYPES - 2), packets.get(SessionStatistics.OTHER)[0]);
    }

    private static byte[] bytes(String packet) {
        return packet.getBytes(StandardCharsets.US_ASCII);
    }
}

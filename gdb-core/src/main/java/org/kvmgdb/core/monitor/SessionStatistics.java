package org.kvmgdb.core.monitor;

import java.util.Map;
import java.util.TreeMap;

/**
 * A debug session's counters for {@code monitor stats}: packets by type with the time spent serving
 * them, and the time the target ran between a resume and its stop. Session thread only.
 */
public final class SessionStatistics {
    /**
     * The most packet types counted apart. Names of {@code q}/{@code Q}/{@code v} packets come from
     * the debugger, so without a limit a client inventing names would grow this map for ever; the
     * rest are counted as {@link #OTHER}.
     */
    static final int MAX_TYPES = 64;
    static final String OTHER = "(other)";

    /** Count and nanoseconds per packet type. */
    private final Map<String, long[]> packets = new TreeMap<>();
    private long resumes;
    private long runningNanos;

    /** One packet served: from its arrival to its reply (for a resume, until the target was started). */
    public void packet(byte[] payload, long nanos) {
        String type = typeOf(payload);
        if (!packets.containsKey(type) && packets.size() >= MAX_TYPES - 1) {
            type = OTHER;
        }
        long[] c = packets.computeIfAbsent(type, k -> new long[2]);
        c[0]++;
        c[1] += nanos;
    }

    /** One resume, from the packet to the stop reply. */
    public void ran(long nanos) {
        resumes++;
        runningNanos += nanos;
    }

    /** Packet type to {count, nanoseconds}, by type name. */
    public Map<String, long[]> packets() {
        Map<String, long[]> copy = new TreeMap<>();
        packets.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    public long resumes() {
        return resumes;
    }

    public long runningNanos() {
        return runningNanos;
    }

    /**
     * A packet's type as the GDB manual names it: the letter ({@code m}, {@code g}, {@code Z}), or
     * for {@code q}, {@code Q} and {@code v} packets the name up to its arguments ({@code qXfer},
     * {@code vCont}, {@code vCont?}).
     */
    public static String typeOf(byte[] payload) {
        if (payload.length == 0) {
            return "(empty)";
        }
        char first = (char) (payload[0] & 0xFF);
        if (first != 'q' && first != 'Q' && first != 'v') {
            return printable(first);
        }
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < payload.length && name.length() < 32; i++) {
            char c = (char) (payload[i] & 0xFF);
            if (c == ':' || c == ';' || (c == ',' && first != 'v')) {
                break;
            }
            name.append(printable(c));
        }
        return name.toString();
    }

    private static String printable(char c) {
        return c >= 0x21 && c < 0x7F ? String.valueOf(c) : String.format("\\x%02x", (int) c);
    }
}

package org.kvmgdb.core.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.kvmgdb.core.protocol.Command;
import org.kvmgdb.core.protocol.Framing;
import org.kvmgdb.core.protocol.PacketDecoder;
import org.kvmgdb.core.protocol.PacketParser;
import org.kvmgdb.core.protocol.WireEvent;

/**
 * The packet decoder, on any bytes: what it finds must not depend on how the stream is split, must
 * equal what a plain reference reading of the framing rules finds, and every packet must go through
 * the parsers without a parser bug ({@code Malformed} with "parser error" is the parser's answer to
 * its own exception). The payload limit is small here so the oversize path is taken often.
 */
final class DecoderHarness {
    /** Small enough that fuzzed inputs cross it; the stub's own limit is {@code DebugSession.PACKET_SIZE}. */
    static final int MAX_PAYLOAD = 64;

    private DecoderHarness() {
    }

    static void check(byte[] input) {
        List<String> whole = decode(input, new int[] {input.length});
        List<String> byteByByte = decode(input, ones(input.length));
        if (!whole.equals(byteByByte)) {
            throw new AssertionError("events depend on the split (whole " + whole + ", byte by byte " + byteByByte + ")");
        }
        List<String> uneven = decode(input, unevenSplit(input));
        if (!whole.equals(uneven)) {
            throw new AssertionError("events depend on the split (whole " + whole + ", uneven " + uneven + ")");
        }
        List<String> reference = reference(input);
        if (!whole.equals(reference)) {
            throw new AssertionError("decoder " + whole + " differs from the framing rules " + reference);
        }
        new PacketDecoder(MAX_PAYLOAD).feed(input, 0, input.length, event -> {
            if (event instanceof WireEvent.Packet p) {
                checkPacket(p.payload());
            }
        });
    }

    private static void checkPacket(byte[] payload) {
        Command command = PacketParser.parse(payload);
        if (command instanceof Command.Malformed m && m.reason().startsWith("parser error")) {
            throw new AssertionError("a parser failed on " + Wire.printable(payload) + ": " + m.reason());
        }
        byte[] escaped = Framing.escape(payload);
        try {
            if (!Arrays.equals(payload, Framing.unescape(escaped, 0, escaped.length))) {
                throw new AssertionError("unescape(escape(x)) != x for " + Wire.printable(payload));
            }
        } catch (Exception e) {
            throw new AssertionError("unescape failed on escaped data " + Wire.printable(escaped), e);
        }
        List<String> again = decode(Framing.frame(payload), new int[] {payload.length + 4});
        if (!again.equals(List.of(describePacket(payload)))) {
            throw new AssertionError("a framed packet does not decode to itself: " + again);
        }
    }

    private static List<String> decode(byte[] input, int[] pieces) {
        List<String> events = new ArrayList<>();
        PacketDecoder decoder = new PacketDecoder(MAX_PAYLOAD);
        int offset = 0;
        for (int piece : pieces) {
            decoder.feed(input, offset, piece, event -> events.add(describe(event)));
            offset += piece;
        }
        return events;
    }

    private static String describe(WireEvent event) {
        if (event instanceof WireEvent.Packet p) {
            if (p.payload().length > MAX_PAYLOAD) {
                throw new AssertionError("a packet of " + p.payload().length + " bytes passed the limit of " + MAX_PAYLOAD);
            }
            return describePacket(p.payload());
        }
        if (event instanceof WireEvent.BadChecksum b) {
            return "bad:" + Wire.printable(b.payload()) + "/" + b.received() + "/" + b.computed();
        }
        if (event instanceof WireEvent.Oversize o) {
            return "oversize:" + o.length() + "/" + o.checksumOk();
        }
        return event.getClass().getSimpleName();
    }

    private static String describePacket(byte[] payload) {
        return "packet:" + Wire.printable(payload);
    }

    /**
     * The framing rules read plainly: between packets {@code + - 0x03} are events and other bytes
     * garbage; {@code $} starts a packet, a later {@code $} before {@code #} starts it again, and the
     * two bytes after {@code #} are the checksum.
     */
    static List<String> reference(byte[] input) {
        List<String> events = new ArrayList<>();
        int i = 0;
        while (i < input.length) {
            int c = input[i] & 0xff;
            if (c == '+') {
                events.add("Ack");
            } else if (c == '-') {
                events.add("Nak");
            } else if (c == 0x03) {
                events.add("Interrupt");
            }
            if (c != '$') {
                i++;
                continue;
            }
            int end = i + 1;
            while (end < input.length && input[end] != '#' && input[end] != '$') {
                end++;
            }
            if (end == input.length || input[end] == '$' || end + 2 >= input.length) {
                if (end < input.length && input[end] == '$') {
                    i = end;
                    continue;
                }
                break; // the input ends inside a packet
            }
            byte[] payload = Arrays.copyOfRange(input, i + 1, end);
            int high = Character.digit(input[end + 1] & 0xff, 16);
            int low = Character.digit(input[end + 2] & 0xff, 16);
            int received = high < 0 || low < 0 ? -1 : high << 4 | low;
            int computed = Wire.checksum(payload);
            if (payload.length > MAX_PAYLOAD) {
                events.add("oversize:" + payload.length + "/" + (received == computed));
            } else if (received == computed) {
                events.add(describePacket(payload));
            } else {
                events.add("bad:" + Wire.printable(payload) + "/" + received + "/" + computed);
            }
            i = end + 3;
        }
        return events;
    }

    private static int[] ones(int n) {
        int[] pieces = new int[n];
        Arrays.fill(pieces, 1);
        return pieces;
    }

    /** Pieces of 1, 2, 3, … bytes, a split no reader is likely to make on purpose. */
    private static int[] unevenSplit(byte[] input) {
        List<Integer> pieces = new ArrayList<>();
        int left = input.length;
        for (int size = 1; left > 0; size = size % 7 + 1) {
            int piece = Math.min(size, left);
            pieces.add(piece);
            left -= piece;
        }
        return pieces.stream().mapToInt(Integer::intValue).toArray();
    }
}

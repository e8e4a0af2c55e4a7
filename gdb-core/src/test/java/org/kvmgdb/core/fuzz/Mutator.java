package org.kvmgdb.core.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.kvmgdb.core.session.DebugSession;

/**
 * A seeded mutation engine for remote-protocol byte streams: the same seed and corpus give the same
 * inputs, run after run. Half of its mutations are plain byte edits (flip, set, insert, delete,
 * duplicate, splice); the other half know the framing: they edit one packet's payload and frame it
 * again with its checksum recomputed (so the edit reaches the parsers instead of a NAK), insert
 * {@code }} escapes, {@code *} (run-length marks, which gdb never sends), NUL bytes, huge numbers and
 * payloads over the packet size, or whole packets a debugger sends (writes and breakpoints inside
 * the target's memory, resumes, Ctrl-C, detach).
 */
final class Mutator {
    private static final byte[] SPECIAL = {'$', '#', '}', '*', '+', '-', 0x03, 0, (byte) 0xff, ':', ',', ';'};
    private static final String[] HUGE = {"ffffffffffffffff", "7fffffff", "80000000", "ffffffff",
        "10000000000000000", "0", "00000000000000000000001000", "4000", "3fff"};
    private static final String OPS = "mMXgGpPZzcCsS?HTDkqQv";

    private final SplittableRandom random;
    private final List<byte[]> corpus;
    /** Where the target's memory is, so generated writes and breakpoints often land in it. */
    private final long memoryBase;
    private final int memorySize;

    Mutator(long seed, List<byte[]> corpus, long memoryBase, int memorySize) {
        this.random = new SplittableRandom(seed);
        this.corpus = corpus;
        this.memoryBase = memoryBase;
        this.memorySize = memorySize;
    }

    /** A corpus entry with one to four mutations stacked. */
    byte[] next() {
        byte[] input = corpus.get(random.nextInt(corpus.size())).clone();
        int mutations = 1 + random.nextInt(4);
        for (int i = 0; i < mutations; i++) {
            input = mutate(input);
        }
        return input;
    }

    byte[] mutate(byte[] input) {
        return random.nextBoolean() ? mutateBytes(input) : mutatePackets(input);
    }

    // ---- byte level ----

    private byte[] mutateBytes(byte[] in) {
        if (in.length == 0) {
            return randomBytes(1 + random.nextInt(16));
        }
        Bytes b = new Bytes(in);
        int at = random.nextInt(in.length);
        switch (random.nextInt(7)) {
            case 0:
                in[at] ^= (byte) (1 << random.nextInt(8));
                return in;
            case 1:
                in[at] = random.nextBoolean() ? SPECIAL[random.nextInt(SPECIAL.length)] : (byte) random.nextInt(256);
                return in;
            case 2:
                return b.insert(at, random.nextBoolean() ? new byte[] {SPECIAL[random.nextInt(SPECIAL.length)]} : randomBytes(1 + random.nextInt(8)));
            case 3:
                return b.delete(at, 1 + random.nextInt(Math.min(16, in.length - at)));
            case 4: {
                int length = 1 + random.nextInt(Math.min(64, in.length - at));
                return b.insert(random.nextInt(in.length + 1), java.util.Arrays.copyOfRange(in, at, at + length));
            }
            case 5: {
                byte[] other = corpus.get(random.nextInt(corpus.size()));
                int from = random.nextInt(other.length + 1);
                return b.insert(at, java.util.Arrays.copyOfRange(other, from, Math.min(other.length, from + 1 + random.nextInt(256))));
            }
            default:
                return b.delete(at, in.length - at); // truncate, maybe mid-packet
        }
    }

    // ---- packet aware ----

    private byte[] mutatePackets(byte[] in) {
        List<byte[]> packets = packets(in);
        int choice = random.nextInt(10);
        if (packets.isEmpty() || choice < 3) {
            byte[] made = generate();
            int at = packets.isEmpty() ? 0 : random.nextInt(packets.size() + 1);
            return join(packets, at, made);
        }
        int index = random.nextInt(packets.size());
        byte[] packet = packets.get(index);
        if (choice == 3) {
            packets.remove(index); // drop one packet
            return join(packets, -1, null);
        }
        if (choice == 4) {
            packets.add(random.nextInt(packets.size() + 1), packet.clone()); // send one twice
            return join(packets, -1, null);
        }
        byte[] payload = payloadOf(packet);
        if (payload == null) {
            return mutateBytes(in);
        }
        byte[] mutated = mutatePayload(payload);
        // Mostly a right checksum, so the change reaches the parsers; sometimes the old one (a NAK).
        packets.set(index, random.nextInt(8) == 0 ? keepOldChecksum(packet, mutated) : Wire.frame(mutated));
        return join(packets, -1, null);
    }

    private byte[] mutatePayload(byte[] payload) {
        String text = new String(payload, StandardCharsets.ISO_8859_1);
        Bytes b = new Bytes(payload);
        int at = payload.length == 0 ? 0 : random.nextInt(payload.length + 1);
        switch (random.nextInt(9)) {
            case 0: { // a number replaced by a huge or boundary one
                int[] number = someNumber(text);
                if (number == null) {
                    return b.insert(at, ascii(HUGE[random.nextInt(HUGE.length)]));
                }
                return ascii(text.substring(0, number[0]) + HUGE[random.nextInt(HUGE.length)] + text.substring(number[1]));
            }
            case 1:
                return b.insert(at, new byte[] {'}'}); // an escape, maybe at the very end
            case 2:
                return b.insert(at, new byte[] {'*', (byte) (' ' + random.nextInt(100))}); // run-length encoding
            case 3:
                return b.insert(at, new byte[1 + random.nextInt(4)]); // NUL bytes
            case 4: { // over the packet size
                int target = Math.max(payload.length, DebugSession.PACKET_SIZE - 8 + random.nextInt(32));
                byte[] out = Arrays.copyOf(payload, target);
                for (int i = payload.length; i < target; i++) {
                    out[i] = payload.length == 0 ? (byte) 'a' : payload[i % payload.length];
                }
                return out;
            }
            case 5:
                if (payload.length > 0) {
                    payload[0] = (byte) OPS.charAt(random.nextInt(OPS.length())); // another command, same arguments
                }
                return payload;
            case 6:
                return b.delete(at == payload.length ? Math.max(0, at - 1) : at, payload.length == 0 ? 0 : 1);
            case 7:
                return b.insert(at, new byte[] {SPECIAL[random.nextInt(SPECIAL.length)]});
            default:
                if (payload.length > 0) {
                    payload[random.nextInt(payload.length)] = (byte) random.nextInt(256);
                }
                return payload;
        }
    }

    /** A packet a debugger sends, aimed at the target's memory most of the time. */
    private byte[] generate() {
        long address = memoryBase + random.nextInt(memorySize + 16) - 8;
        String a = Long.toHexString(address);
        int length = random.nextInt(24);
        switch (random.nextInt(16)) {
            case 0:
            case 1: {
                byte[] data = randomBytes(length);
                return Wire.frame("M" + a + "," + Integer.toHexString(length) + ":" + hex(data));
            }
            case 2:
            case 3: {
                byte[] data = randomBytes(length);
                for (int i = 0; i < data.length; i++) {
                    if (random.nextInt(4) == 0) {
                        data[i] = SPECIAL[random.nextInt(4)]; // bytes that must be escaped
                    }
                }
                ByteArrayOutputStream p = new ByteArrayOutputStream();
                p.writeBytes(ascii("X" + a + "," + Integer.toHexString(length) + ":"));
                for (byte x : data) {
                    if (x == '$' || x == '#' || x == '}' || x == '*') {
                        p.write('}');
                        p.write(x ^ 0x20);
                    } else {
                        p.write(x);
                    }
                }
                return Wire.frame(p.toByteArray());
            }
            case 4:
            case 5:
                return Wire.frame("Z0," + a + ",1");
            case 6:
                return Wire.frame("z0," + a + ",1");
            case 7:
                return Wire.frame("m" + a + "," + Integer.toHexString(length));
            case 8:
                return Wire.frame(random.nextBoolean() ? "c" : "s");
            case 9:
                return Wire.frame(random.nextBoolean() ? "vCont;c" : "vCont;s:" + (1 + random.nextInt(3)) + ";c");
            case 10:
                return new byte[] {0x03};
            case 11:
                return Wire.frame("Hg" + random.nextInt(4));
            case 12:
                return Wire.frame(random.nextBoolean() ? "QStartNoAckMode" : "?");
            case 13:
                return Wire.frame(random.nextInt(4) == 0 ? "k" : "D");
            case 14:
                return Wire.frame("Z" + (1 + random.nextInt(4)) + "," + a + "," + (1 + random.nextInt(8)));
            default:
                return random.nextBoolean() ? new byte[] {'-'} : Wire.frame("g");
        }
    }

    // ---- helpers ----

    /** The stream cut into pieces: each frame, control byte or run of garbage one element. */
    private static List<byte[]> packets(byte[] in) {
        List<byte[]> pieces = new ArrayList<>();
        for (Wire.Step step : Wire.steps(in)) {
            pieces.add(step.bytes());
        }
        return pieces;
    }

    private static byte[] join(List<byte[]> pieces, int at, byte[] inserted) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i <= pieces.size(); i++) {
            if (i == at) {
                out.writeBytes(inserted);
            }
            if (i < pieces.size()) {
                out.writeBytes(pieces.get(i));
            }
        }
        return out.toByteArray();
    }

    /** The payload of the last frame in a piece, or null when it has none. */
    private static byte[] payloadOf(byte[] piece) {
        int start = -1;
        for (int i = 0; i < piece.length; i++) {
            if (piece[i] == '$') {
                start = i;
            }
        }
        int end = -1;
        for (int i = start + 1; start >= 0 && i < piece.length; i++) {
            if (piece[i] == '#') {
                end = i;
                break;
            }
        }
        return start < 0 || end < 0 ? null : java.util.Arrays.copyOfRange(piece, start + 1, end);
    }

    private static byte[] keepOldChecksum(byte[] piece, byte[] payload) {
        byte[] framed = Wire.frame(payload);
        framed[framed.length - 2] = piece[piece.length - 2];
        framed[framed.length - 1] = piece[piece.length - 1];
        return framed;
    }

    /** [start, end) of some run of hex digits in the text, or null. */
    private int[] someNumber(String text) {
        List<int[]> runs = new ArrayList<>();
        int i = 1; // not the command letter
        while (i < text.length()) {
            if (Character.digit(text.charAt(i), 16) >= 0) {
                int start = i;
                while (i < text.length() && Character.digit(text.charAt(i), 16) >= 0) {
                    i++;
                }
                runs.add(new int[] {start, i});
            } else {
                i++;
            }
        }
        return runs.isEmpty() ? null : runs.get(random.nextInt(runs.size()));
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) random.nextInt(256);
        }
        return b;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String hex(byte[] data) {
        StringBuilder b = new StringBuilder();
        for (byte x : data) {
            b.append(String.format("%02x", x & 0xff));
        }
        return b.toString();
    }

    /** Insert and delete on a byte array. */
    private record Bytes(byte[] data) {
        byte[] insert(int at, byte[] inserted) {
            byte[] out = new byte[data.length + inserted.length];
            System.arraycopy(data, 0, out, 0, at);
            System.arraycopy(inserted, 0, out, at, inserted.length);
            System.arraycopy(data, at, out, at + inserted.length, data.length - at);
            return out;
        }

        byte[] delete(int at, int length) {
            byte[] out = new byte[data.length - length];
            System.arraycopy(data, 0, out, 0, at);
            System.arraycopy(data, at + length, out, at, data.length - at - length);
            return out;
        }
    }
}

package org.kvmgdb.core.protocol;

/**
 * {@code H op thread}, {@code T thread}, {@code qC}, {@code qfThreadInfo}, {@code qsThreadInfo},
 * {@code qThreadExtraInfo,thread}, {@code qAttached}.
 */
public final class ThreadPackets {
    private ThreadPackets() {
    }

    /**
     * A thread id as gdb writes it: hex, {@code -1} for all threads, {@code 0} for any thread. The
     * multiprocess form {@code pPID.TID} is accepted too (we do not offer multiprocess, but it costs
     * nothing to read); only the thread part is kept.
     */
    public record ThreadId(long value) {
        public static final ThreadId ALL = new ThreadId(-1);
        public static final ThreadId ANY = new ThreadId(0);

        public boolean isAll() {
            return value == -1;
        }

        public boolean isAny() {
            return value == 0;
        }

        /** A single named thread (neither all nor any). */
        public boolean isSpecific() {
            return value > 0;
        }

        public static ThreadId parse(String text) throws MalformedPacketException {
            if (text.startsWith("p")) {
                int dot = text.indexOf('.');
                if (dot < 0) {
                    return ALL; // pPID alone: every thread of that process
                }
                text = text.substring(dot + 1);
            }
            if (text.equals("-1")) {
                return ALL;
            }
            long value = Hex.parseUnsigned(text);
            if (value < 0) {
                throw new MalformedPacketException("thread id out of range: " + text);
            }
            return new ThreadId(value);
        }
    }

    /** {@code Hg} (registers and memory) or {@code Hc} (legacy {@code c}/{@code s}). */
    public record SetThread(char operation, ThreadId thread) implements Command {
    }

    /** {@code T thread}: is it alive? */
    public record ThreadAlive(ThreadId thread) implements Command {
    }

    /** {@code qC} */
    public record CurrentThread() implements Command {
    }

    /** {@code qfThreadInfo} */
    public record ThreadInfoFirst() implements Command {
    }

    /** {@code qsThreadInfo} */
    public record ThreadInfoNext() implements Command {
    }

    /** {@code qThreadExtraInfo,thread} */
    public record ThreadExtraInfo(ThreadId thread) implements Command {
    }

    /** {@code qAttached}: did we attach to a running guest (so quitting gdb detaches rather than kills)? */
    public record Attached() implements Command {
    }

    /** {@code H} and {@code T}; the {@code q} ones come through {@link QueryPackets}. */
    public static Command parse(byte[] payload) {
        String text = PacketText.of(payload);
        try {
            if (text.charAt(0) == 'H') {
                if (text.length() < 3) {
                    throw new MalformedPacketException("H: operation and thread expected");
                }
                char op = text.charAt(1);
                if (op != 'g' && op != 'c') {
                    return new Command.Unknown("H" + op);
                }
                return new SetThread(op, ThreadId.parse(text.substring(2)));
            }
            return new ThreadAlive(ThreadId.parse(text.substring(1)));
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), e.getMessage());
        }
    }

    static Command parseExtraInfo(String text) {
        try {
            return new ThreadExtraInfo(ThreadId.parse(PacketText.pair(text, ',', "qThreadExtraInfo")[1]));
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), e.getMessage());
        }
    }
}

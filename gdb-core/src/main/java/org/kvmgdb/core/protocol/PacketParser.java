package org.kvmgdb.core.protocol;

/** Routes a packet payload to its family's parser by the command letter. Never throws. */
public final class PacketParser {
    private PacketParser() {
    }

    public static Command parse(byte[] payload) {
        if (payload.length == 0) {
            return new Command.Unknown("");
        }
        try {
            char op = (char) (payload[0] & 0xff);
            switch (op) {
                case '?':
                    return payload.length == 1 ? new Command.StopReason() : new Command.Unknown(PacketText.of(payload));
                case 'g':
                case 'G':
                case 'p':
                case 'P':
                    return RegisterPackets.parse(payload);
                case 'm':
                case 'M':
                case 'X':
                    return MemoryPackets.parse(payload);
                case 'Z':
                case 'z':
                    return BreakpointPackets.parse(payload);
                case 'c':
                case 'C':
                case 's':
                case 'S':
                    return ResumePackets.parse(payload);
                case 'H':
                case 'T':
                    return ThreadPackets.parse(payload);
                case 'D':
                    return new Command.Detach();
                case 'k':
                    return new Command.Kill();
                case 'q':
                case 'Q':
                    return QueryPackets.parse(payload);
                case 'v':
                    return verbose(PacketText.of(payload));
                default:
                    return new Command.Unknown(String.valueOf(op));
            }
        } catch (RuntimeException e) {
            // A parser bug must not take the session down: the packet is answered as malformed,
            // and the reason (logged by the session) names the exception.
            return new Command.Malformed(PacketText.shorten(PacketText.of(payload)), "parser error: " + e);
        }
    }

    /** {@code v} packets: only {@code vCont} and {@code vCont?} are ours. */
    private static Command verbose(String text) {
        if (text.equals("vCont?") || text.startsWith("vCont;")) {
            return ResumePackets.parseVCont(text);
        }
        int end = text.length();
        for (char sep : new char[] {';', ':', '?'}) {
            int at = text.indexOf(sep);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        return new Command.Unknown(text.substring(0, end));
    }
}

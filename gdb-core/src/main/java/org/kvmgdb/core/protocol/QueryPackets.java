package org.kvmgdb.core.protocol;

import java.util.Arrays;
import java.util.List;

/** The general queries and settings: {@code q...} and {@code Q...}. */
public final class QueryPackets {
    private QueryPackets() {
    }

    /**
     * {@code qSupported[:feature;feature...]}: what gdb offers, e.g. {@code swbreak+},
     * {@code xmlRegisters=i386}.
     */
    public record Supported(List<String> features) implements Command {
        public Supported {
            features = List.copyOf(features);
        }

        /** Whether gdb said {@code name+}. */
        public boolean offers(String name) {
            return features.contains(name + "+");
        }
    }

    /** {@code qXfer:object:read:annex:offset,length}. */
    public record XferRead(String object, String annex, long offset, int length) implements Command {
    }

    /** {@code QStartNoAckMode}: stop sending {@code +}/{@code -} after our {@code OK}. */
    public record StartNoAckMode() implements Command {
    }

    public static Command parse(byte[] payload) {
        String text = PacketText.of(payload);
        String name = name(text);
        if (MonitorPackets.isMonitorPacket(name)) {
            return MonitorPackets.parse(text, name);
        }
        if (LldbPackets.isLldbPacket(name)) {
            return LldbPackets.parse(text, name);
        }
        switch (name) {
            case "qSupported":
                return supported(text);
            case "qXfer":
                return xfer(text);
            case "QStartNoAckMode":
                return new StartNoAckMode();
            case "qC":
                return new ThreadPackets.CurrentThread();
            case "qfThreadInfo":
                return new ThreadPackets.ThreadInfoFirst();
            case "qsThreadInfo":
                return new ThreadPackets.ThreadInfoNext();
            case "qThreadExtraInfo":
                return ThreadPackets.parseExtraInfo(text);
            case "qAttached":
                return new ThreadPackets.Attached();
            default:
                return new Command.Unknown(name);
        }
    }

    /** A query's name ends at the first {@code :}, {@code ,} or {@code ;}. */
    static String name(String text) {
        int end = text.length();
        for (char sep : new char[] {':', ',', ';'}) {
            int at = text.indexOf(sep);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        return text.substring(0, end);
    }

    private static Command supported(String text) {
        if (text.length() == "qSupported".length()) {
            return new Supported(List.of());
        }
        if (text.charAt("qSupported".length()) != ':') {
            return new Command.Malformed(PacketText.shorten(text), "qSupported: ':' expected");
        }
        String list = text.substring("qSupported:".length());
        return new Supported(list.isEmpty() ? List.of() : Arrays.asList(list.split(";")));
    }

    private static Command xfer(String text) {
        // qXfer:object:read:annex:offset,length
        String[] parts = text.split(":", 5);
        if (parts.length != 5) {
            return new Command.Malformed(PacketText.shorten(text), "qXfer: object:operation:annex:offset,length expected");
        }
        if (!parts[2].equals("read")) {
            return new Command.Unknown("qXfer:" + parts[1] + ":" + parts[2]);
        }
        try {
            String[] window = PacketText.pair(parts[4], ',', "qXfer");
            return new XferRead(parts[1], parts[3], Hex.parseUnsigned(window[0]), Hex.parseInt(window[1]));
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), e.getMessage());
        }
    }
}

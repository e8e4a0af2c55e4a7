package org.kvmgdb.core.protocol;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * gdb's {@code monitor} and QEMU's physical-memory mode:
 * <ul>
 *   <li>{@code qRcmd,HEX}: a command line for the stub, hex-encoded; the stub may answer with
 *       console output packets {@code O HEX} before the final {@code OK} (GDB manual, "General
 *       Query Packets");</li>
 *   <li>{@code qqemu.Supported}, {@code qqemu.PhyMemMode} and {@code Qqemu.PhyMemMode:N}, as QEMU's
 *       gdbstub answers them: {@code PhyMemMode} among the features, {@code 0}/{@code 1}, {@code OK}.</li>
 * </ul>
 */
public final class MonitorPackets {
    /**
     * The most output bytes one {@code O} packet carries (twice that in hex). gdb grows its buffer
     * as needed; lines are kept whole where they fit, so output arrives line by line.
     */
    public static final int OUTPUT_CHUNK = 1024;

    private MonitorPackets() {
    }

    /** The packets of this family. */
    public sealed interface Packet extends Command permits Rcmd, QemuSupported, PhyMemModeQuery, PhyMemModeSet {
    }

    /** {@code qRcmd,HEX}: {@code line} is the command as typed after {@code monitor}. */
    public record Rcmd(String line) implements Packet {
    }

    /** {@code qqemu.Supported}: QEMU's own feature query. */
    public record QemuSupported() implements Packet {
    }

    /** {@code qqemu.PhyMemMode}: is physical mode on? */
    public record PhyMemModeQuery() implements Packet {
    }

    /** {@code Qqemu.PhyMemMode:N}: any non-zero hex N turns it on, 0 off. */
    public record PhyMemModeSet(boolean on) implements Packet {
    }

    /** Parses a packet whose query name ({@link QueryPackets#name}) is one of this family's. */
    static Command parse(String text, String name) {
        switch (name) {
            case "qRcmd":
                return rcmd(text);
            case "qqemu.Supported":
                return text.equals(name) ? new QemuSupported() : new Command.Unknown(name);
            case "qqemu.PhyMemMode":
                return text.equals(name) ? new PhyMemModeQuery() : new Command.Unknown(name);
            case "Qqemu.PhyMemMode":
                return phyMemModeSet(text);
            default:
                return new Command.Unknown(name);
        }
    }

    static boolean isMonitorPacket(String name) {
        return name.equals("qRcmd") || name.equals("qqemu.Supported") || name.equals("qqemu.PhyMemMode")
                || name.equals("Qqemu.PhyMemMode");
    }

    private static Command rcmd(String text) {
        if (text.equals("qRcmd")) {
            return new Rcmd(""); // gdb sends this for a bare "monitor"
        }
        if (text.charAt("qRcmd".length()) != ',') {
            return new Command.Malformed(PacketText.shorten(text), "qRcmd: ',' expected");
        }
        try {
            byte[] line = Hex.decode(text.substring("qRcmd,".length()));
            return new Rcmd(new String(line, StandardCharsets.UTF_8));
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), "qRcmd: " + e.getMessage());
        }
    }

    /**
     * QEMU parses the value as a hex number ({@code qemu_strtoul} base 16); a packet whose value it
     * cannot parse matches none of its set commands and gets the empty reply. So does it here.
     */
    private static Command phyMemModeSet(String text) {
        String prefix = "Qqemu.PhyMemMode:";
        if (!text.startsWith(prefix)) {
            return new Command.Unknown("Qqemu.PhyMemMode");
        }
        String value = text.substring(prefix.length());
        if (value.startsWith("0x") || value.startsWith("0X")) {
            value = value.substring(2);
        }
        try {
            return new PhyMemModeSet(Hex.parseUnsigned(value) != 0);
        } catch (MalformedPacketException e) {
            return new Command.Unknown("Qqemu.PhyMemMode");
        }
    }

    /**
     * Console output as {@code O} packets: {@code O} and the text in hex, at most
     * {@link #OUTPUT_CHUNK} bytes each, split after a newline where one is near the limit.
     */
    public static List<byte[]> outputPackets(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        List<byte[]> packets = new ArrayList<>();
        int at = 0;
        while (at < bytes.length) {
            int end = Math.min(bytes.length, at + OUTPUT_CHUNK);
            if (end < bytes.length) {
                for (int i = end - 1; i > at; i--) {
                    if (bytes[i] == '\n') {
                        end = i + 1;
                        break;
                    }
                }
            }
            packets.add(Replies.ascii("O" + Hex.encode(bytes, at, end - at)));
            at = end;
        }
        return packets;
    }
}

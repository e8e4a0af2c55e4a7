package org.kvmgdb.core.protocol;

import java.nio.charset.StandardCharsets;

/** Payload bytes as text for parsing: one char per byte (ISO-8859-1), so binary data survives. */
final class PacketText {
    private PacketText() {
    }

    static String of(byte[] payload) {
        return new String(payload, StandardCharsets.ISO_8859_1);
    }

    /** For {@link Command.Malformed}: the packet, shortened so logs stay readable. */
    static String shorten(String packet) {
        return packet.length() <= 64 ? packet : packet.substring(0, 64) + "...";
    }

    /** Splits {@code "a,b"} into exactly two parts at the first {@code sep}. */
    static String[] pair(String text, char sep, String what) throws MalformedPacketException {
        int at = text.indexOf(sep);
        if (at < 0) {
            throw new MalformedPacketException(what + ": '" + sep + "' expected");
        }
        return new String[] {text.substring(0, at), text.substring(at + 1)};
    }
}

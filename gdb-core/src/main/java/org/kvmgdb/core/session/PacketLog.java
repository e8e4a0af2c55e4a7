package org.kvmgdb.core.session;

/** Packets as readable text for {@code --log-packets}: non-printable bytes as {@code \xNN}, long ones cut. */
final class PacketLog {
    private static final int MAX_SHOWN = 400;

    private PacketLog() {
    }

    static String printable(byte[] payload) {
        StringBuilder out = new StringBuilder(Math.min(payload.length, MAX_SHOWN) + 16);
        int shown = Math.min(payload.length, MAX_SHOWN);
        for (int i = 0; i < shown; i++) {
            int b = payload[i] & 0xff;
            if (b >= 0x20 && b < 0x7f && b != '\\') {
                out.append((char) b);
            } else {
                out.append(String.format("\\x%02x", b));
            }
        }
        if (shown < payload.length) {
            out.append("... (").append(payload.length).append(" bytes)");
        }
        return out.toString();
    }
}

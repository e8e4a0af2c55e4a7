package org.kvmgdb.core.protocol;

/** {@code m addr,length}, {@code M addr,length:XX...}, {@code X addr,length:binary}. */
public final class MemoryPackets {
    private MemoryPackets() {
    }

    public record ReadMemory(long address, int length) implements Command {
    }

    /** {@code M} (hex) and {@code X} (binary) alike; {@code X addr,0:} is gdb's probe for {@code X}. */
    public record WriteMemory(long address, byte[] data) implements Command {
    }

    public static Command parse(byte[] payload) {
        if (payload.length > 0 && payload[0] == 'm') {
            ReadMemory m = parseRead(payload);
            if (m != null) {
                return m;
            }
        }
        String text = PacketText.of(payload);
        try {
            char op = text.charAt(0);
            if (op == 'm') {
                String[] addrLen = PacketText.pair(text.substring(1), ',', "m");
                return new ReadMemory(Hex.parseUnsigned(addrLen[0]), Hex.parseInt(addrLen[1]));
            }
            int colon = text.indexOf(':');
            if (colon < 0) {
                throw new MalformedPacketException(op + ": ':' expected");
            }
            String[] addrLen = PacketText.pair(text.substring(1, colon), ',', String.valueOf(op));
            long address = Hex.parseUnsigned(addrLen[0]);
            int length = Hex.parseInt(addrLen[1]);
            byte[] data;
            if (op == 'M') {
                data = Hex.decode(text.substring(colon + 1));
            } else if (op == 'X') {
                data = Framing.unescape(payload, colon + 1, payload.length - colon - 1);
            } else {
                return new Command.Unknown(String.valueOf(op));
            }
            if (data.length != length) {
                throw new MalformedPacketException(op + ": length says " + length + " bytes, data has " + data.length);
            }
            return new WriteMemory(address, data);
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), e.getMessage());
        }
    }

    /** {@code m addr,length} straight from the bytes; null when it is not well formed (the text parser then says why). */
    private static ReadMemory parseRead(byte[] payload) {
        int comma = -1;
        for (int i = 1; i < payload.length; i++) {
            if (payload[i] == ',') {
                comma = i;
                break;
            }
        }
        if (comma < 0) {
            return null;
        }
        long address = Hex.parseUnsignedOrMinusOne(payload, 1, comma);
        long length = Hex.parseUnsignedOrMinusOne(payload, comma + 1, payload.length);
        if (address == -1 || length < 0 || length > Integer.MAX_VALUE) {
            return null;
        }
        return new ReadMemory(address, (int) length);
    }
}

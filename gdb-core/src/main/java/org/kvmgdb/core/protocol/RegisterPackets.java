package org.kvmgdb.core.protocol;

/** {@code g}, {@code G XX...}, {@code p n}, {@code P n=XX...}. Register numbers are GDB regnums. */
public final class RegisterPackets {
    private RegisterPackets() {
    }

    public record ReadRegisters() implements Command {
    }

    public record WriteRegisters(byte[] data) implements Command {
    }

    public record ReadRegister(int regnum) implements Command {
    }

    public record WriteRegister(int regnum, byte[] value) implements Command {
    }

    public static Command parse(byte[] payload) {
        String text = PacketText.of(payload);
        try {
            switch (text.charAt(0)) {
                case 'g':
                    if (text.length() != 1) {
                        throw new MalformedPacketException("g takes no arguments");
                    }
                    return new ReadRegisters();
                case 'G':
                    return new WriteRegisters(Hex.decode(text.substring(1)));
                case 'p':
                    return new ReadRegister(Hex.parseInt(text.substring(1)));
                case 'P': {
                    String[] numValue = PacketText.pair(text.substring(1), '=', "P");
                    return new WriteRegister(Hex.parseInt(numValue[0]), Hex.decode(numValue[1]));
                }
                default:
                    return new Command.Unknown(text.substring(0, 1));
            }
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), e.getMessage());
        }
    }
}

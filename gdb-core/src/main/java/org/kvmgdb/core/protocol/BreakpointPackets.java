package org.kvmgdb.core.protocol;

/**
 * {@code Z type,addr,kind} and {@code z type,addr,kind}. {@code type} is kept as a number: types the
 * target does not serve (and any gdb may add) get the empty reply from the session. Conditions and
 * commands after {@code ;} are ignored: we do not offer {@code ConditionalBreakpoints}.
 */
public final class BreakpointPackets {
    private BreakpointPackets() {
    }

    /** @param kind the breakpoint kind (instruction size for software ones; bytes watched for watchpoints) */
    public record InsertBreakpoint(int type, long address, int kind) implements Command {
    }

    public record RemoveBreakpoint(int type, long address, int kind) implements Command {
    }

    public static Command parse(byte[] payload) {
        String text = PacketText.of(payload);
        try {
            String body = text.substring(1);
            int semicolon = body.indexOf(';');
            if (semicolon >= 0) {
                body = body.substring(0, semicolon);
            }
            String[] parts = body.split(",", -1);
            if (parts.length != 3) {
                throw new MalformedPacketException(text.charAt(0) + ": type,addr,kind expected");
            }
            int type = Hex.parseInt(parts[0]);
            long address = Hex.parseUnsigned(parts[1]);
            int kind = Hex.parseInt(parts[2]);
            return text.charAt(0) == 'Z'
                    ? new InsertBreakpoint(type, address, kind)
                    : new RemoveBreakpoint(type, address, kind);
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), e.getMessage());
        }
    }
}

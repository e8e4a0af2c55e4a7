package org.kvmgdb.core.target;

/** The {@code Z}/{@code z} packet types, by their number in the packet. */
public enum BreakpointType {
    SOFTWARE(0),
    HARDWARE(1),
    WRITE_WATCHPOINT(2),
    READ_WATCHPOINT(3),
    ACCESS_WATCHPOINT(4);

    private final int packetType;

    BreakpointType(int packetType) {
        this.packetType = packetType;
    }

    public int packetType() {
        return packetType;
    }

    /** The type for {@code Zn}, or null when n is not one of 0..4. */
    public static BreakpointType ofPacketType(int n) {
        return n >= 0 && n < values().length ? values()[n] : null;
    }
}

package org.kvmgdb.core.protocol;

/** What {@link PacketDecoder} finds in the byte stream from gdb. */
public sealed interface WireEvent {

    /** A packet whose checksum matched; {@code payload} is as received (binary escapes still in place). */
    record Packet(byte[] payload) implements WireEvent {
    }

    /** A complete packet whose checksum did not match: answer with a NAK so gdb sends it again. */
    record BadChecksum(byte[] payload, int received, int computed) implements WireEvent {
    }

    /**
     * A packet longer than the size we advertised; its payload was dropped while it streamed in.
     *
     * @param length     payload bytes received
     * @param checksumOk whether its checksum matched (otherwise it is a transmission error: NAK it)
     */
    record Oversize(int length, boolean checksumOk) implements WireEvent {
    }

    /** The 0x03 byte between packets: gdb's Ctrl-C. */
    record Interrupt() implements WireEvent {
    }

    /** {@code +}: gdb got our last packet. */
    record Ack() implements WireEvent {
    }

    /** {@code -}: gdb wants our last packet again. */
    record Nak() implements WireEvent {
    }
}

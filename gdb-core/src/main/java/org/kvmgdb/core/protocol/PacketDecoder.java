package org.kvmgdb.core.protocol;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Turns the byte stream from gdb into {@link WireEvent}s, a chunk at a time, however the stream
 * is split. Bytes between packets other than {@code + - 0x03} are garbage and skipped (gdb
 * itself skips them; a noisy line must not end a session). A {@code $} inside a packet starts a
 * new packet: gdb escapes {@code $} in binary data, so a raw one means the previous packet was cut.
 *
 * <p>0x03 is an interrupt only between packets; inside an {@code X} payload it is a data byte.
 */
public final class PacketDecoder {
    private enum State { IDLE, PAYLOAD, CHECKSUM_HIGH, CHECKSUM_LOW }

    private final int maxPayload;
    private State state = State.IDLE;
    private byte[] buffer = new byte[256];
    private int length;
    private int sum;
    private int checksumHigh;
    private long garbageBytes;

    /** @param maxPayload the longest payload accepted (our {@code PacketSize}) */
    public PacketDecoder(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    /** Bytes skipped so far because they were outside any packet (for logs and tests). */
    public long garbageBytes() {
        return garbageBytes;
    }

    public void feed(byte[] data, int offset, int count, Consumer<WireEvent> events) {
        for (int i = offset; i < offset + count; i++) {
            feed(data[i], events);
        }
    }

    public void feed(byte b, Consumer<WireEvent> events) {
        int c = b & 0xff;
        switch (state) {
            case IDLE:
                if (c == Framing.START) {
                    startPacket();
                } else if (c == Framing.INTERRUPT) {
                    events.accept(new WireEvent.Interrupt());
                } else if (c == Framing.ACK) {
                    events.accept(new WireEvent.Ack());
                } else if (c == Framing.NAK) {
                    events.accept(new WireEvent.Nak());
                } else {
                    garbageBytes++;
                }
                break;
            case PAYLOAD:
                if (c == Framing.END) {
                    state = State.CHECKSUM_HIGH;
                } else if (c == Framing.START) {
                    // The packet before was cut short; what we had of it is garbage.
                    garbageBytes += length + 1;
                    startPacket();
                } else {
                    sum += c;
                    if (length < maxPayload) {
                        if (length == buffer.length) {
                            buffer = Arrays.copyOf(buffer, Math.min(maxPayload, buffer.length * 2));
                        }
                        buffer[length] = b;
                    }
                    // Saturate: past 2 GiB an int would wrap negative and index the buffer.
                    if (length < Integer.MAX_VALUE) {
                        length++;
                    }
                }
                break;
            case CHECKSUM_HIGH:
                checksumHigh = Hex.digit(c);
                state = State.CHECKSUM_LOW;
                break;
            case CHECKSUM_LOW:
                state = State.IDLE;
                int low = Hex.digit(c);
                // A non-hex checksum character cannot match: treat it as a corrupted checksum.
                int received = checksumHigh < 0 || low < 0 ? -1 : checksumHigh << 4 | low;
                int computed = sum & 0xff;
                if (length > maxPayload) {
                    events.accept(new WireEvent.Oversize(length, received == computed));
                } else if (received == computed) {
                    events.accept(new WireEvent.Packet(Arrays.copyOf(buffer, length)));
                } else {
                    events.accept(new WireEvent.BadChecksum(Arrays.copyOf(buffer, length), received, computed));
                }
                break;
            default:
                throw new AssertionError(state);
        }
    }

    private void startPacket() {
        state = State.PAYLOAD;
        length = 0;
        sum = 0;
    }
}

package org.kvmgdb.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A scripted debugger for tests: speaks the remote protocol byte by byte, so tests can also send
 * what gdb never would (bad checksums, garbage, oversize packets) and see exactly what comes back.
 * Framing is written here independently of the production codec, so a bug there cannot hide
 * itself in both ends.
 *
 * <p>Reads give up after {@link #READ_TIMEOUT_MILLIS} with an exception, so a stub that never
 * answers fails a test instead of hanging it; no assertion depends on timing.
 */
public final class RspClient implements Closeable {
    public static final int READ_TIMEOUT_MILLIS = 20_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private boolean noAck;

    public RspClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(READ_TIMEOUT_MILLIS);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** The socket, for a test that streams packets itself (pipelined, say) after a scripted start. */
    public Socket socket() {
        return socket;
    }

    /** Stop expecting and sending acks (after a successful {@code QStartNoAckMode}). */
    public void noAck(boolean noAck) {
        this.noAck = noAck;
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void sendRaw(String text) throws IOException {
        sendRaw(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** {@code $payload#cc} with a correct checksum; the payload goes out as given (no escaping). */
    public void sendPacket(byte[] payload) throws IOException {
        sendRaw(frame(payload, checksum(payload)));
    }

    public void sendPacket(String payload) throws IOException {
        sendPacket(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** A packet whose checksum is deliberately wrong. */
    public void sendCorrupted(String payload) throws IOException {
        byte[] p = payload.getBytes(StandardCharsets.ISO_8859_1);
        sendRaw(frame(p, (checksum(p) + 1) & 0xff));
    }

    public static byte[] frame(byte[] payload, int checksum) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write('$');
        b.writeBytes(payload);
        b.write('#');
        b.writeBytes(String.format("%02x", checksum).getBytes(StandardCharsets.US_ASCII));
        return b.toByteArray();
    }

    public static int checksum(byte[] payload) {
        int sum = 0;
        for (byte x : payload) {
            sum += x & 0xff;
        }
        return sum & 0xff;
    }

    /** Binary data as gdb sends it in {@code X}: {@code $ # } *} escaped with {@code }} and XOR 0x20. */
    public static byte[] escape(byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte x : data) {
            if (x == '$' || x == '#' || x == '}' || x == '*') {
                b.write('}');
                b.write(x ^ 0x20);
            } else {
                b.write(x);
            }
        }
        return b.toByteArray();
    }

    /** The next byte from the stub; -1 at end of stream. */
    public int readByte() throws IOException {
        return in.read();
    }

    /** Reads one byte and fails unless it is {@code expected}. */
    public void expect(char expected) throws IOException {
        int b = in.read();
        if (b != expected) {
            throw new IOException("expected '" + expected + "', got " + describe(b));
        }
    }

    /**
     * The next packet's payload with run-length encoding expanded, as gdb's read_frame does (escapes
     * still in place); fails on a wrong checksum or anything but a packet start.
     */
    public byte[] readPacketBytes() throws IOException {
        return expandRuns(readPacketAsSent());
    }

    /** gdb's reading of run-length encoding: {@code c*n} is c and (n - 29) more of it. */
    public static byte[] expandRuns(byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length);
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == '*' && i > 0 && i + 1 < payload.length) {
                int repeats = (payload[i + 1] & 0xff) - 29;
                for (int k = 0; k < repeats; k++) {
                    out.write(payload[i - 1]);
                }
                i++;
            } else {
                out.write(payload[i]);
            }
        }
        return out.toByteArray();
    }

    /** The next packet's payload exactly as sent (runs and escapes in place). */
    public byte[] readPacketAsSent() throws IOException {
        int b = in.read();
        if (b != '$') {
            throw new IOException("expected a packet, got " + describe(b));
        }
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        while ((b = in.read()) != '#') {
            if (b < 0) {
                throw new EOFException("end of stream inside a packet");
            }
            payload.write(b);
        }
        String cs = new String(new byte[] {(byte) in.read(), (byte) in.read()}, StandardCharsets.US_ASCII);
        byte[] p = payload.toByteArray();
        if (Integer.parseInt(cs, 16) != checksum(p)) {
            throw new IOException("bad checksum " + cs + " on " + new String(p, StandardCharsets.ISO_8859_1));
        }
        return p;
    }

    public String readPacket() throws IOException {
        return new String(readPacketBytes(), StandardCharsets.ISO_8859_1);
    }

    /** Sends a packet, checks its ack, reads the reply and acks it (acks only in ack mode). */
    public String request(String payload) throws IOException {
        return new String(requestBytes(payload.getBytes(StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1);
    }

    public byte[] requestBytes(byte[] payload) throws IOException {
        sendPacket(payload);
        if (!noAck) {
            expect('+');
        }
        byte[] reply = readPacketBytes();
        if (!noAck) {
            sendRaw("+");
        }
        return reply;
    }

    /** Sends a packet that gets no immediate reply ({@code c}, {@code s}, {@code vCont}), checking its ack. */
    public void post(String payload) throws IOException {
        sendPacket(payload);
        if (!noAck) {
            expect('+');
        }
    }

    /** Reads the reply to an earlier {@link #post} (a stop reply) and acks it. */
    public String awaitReply() throws IOException {
        String reply = readPacket();
        if (!noAck) {
            sendRaw("+");
        }
        return reply;
    }

    /** Whether the stub closed the connection: everything up to the end is returned. */
    public String readToEnd() throws IOException {
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            rest.write(b);
        }
        return rest.toString(StandardCharsets.ISO_8859_1);
    }

    private static String describe(int b) {
        return b < 0 ? "end of stream" : b >= 0x20 && b < 0x7f ? "'" + (char) b + "'" : String.format("0x%02x", b);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

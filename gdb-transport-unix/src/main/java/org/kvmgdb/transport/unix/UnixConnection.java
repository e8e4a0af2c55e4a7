package org.kvmgdb.transport.unix;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Objects;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.kvmgdb.api.transport.Connection;

/**
 * One accepted Unix-domain connection.
 *
 * <p>The streams call the channel directly rather than through {@code Channels.newInputStream}:
 * on Java 17 those streams take the channel's blocking lock for every read and write, so a thread
 * blocked reading (the core waiting for gdb's 0x03) would stop another thread from writing (the
 * stop reply). A SocketChannel itself allows one reader and one writer at once.
 */
final class UnixConnection implements Connection {

    private final SocketChannel channel;
    private final String peer;
    private final InputStream input = new ChannelInput();
    private final OutputStream output = new ChannelOutput();

    UnixConnection(SocketChannel channel, Path path) {
        this.channel = channel;
        this.peer = UnixTransportProvider.SCHEME + ":" + path + peerCredentials(channel);
    }

    /** The connecting process's user, from SO_PEERCRED; a client socket has no path to show. */
    private static String peerCredentials(SocketChannel channel) {
        try {
            UnixDomainPrincipal principal = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            return " (user " + principal.user().getName() + ")";
        } catch (IOException | UnsupportedOperationException e) {
            return "";
        }
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public String peer() {
        return peer;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return peer;
    }

    private final class ChannelInput extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n;
            do {
                n = read(one, 0, 1);
            } while (n == 0);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, bytes.length);
            if (length == 0) {
                return 0;
            }
            return channel.read(ByteBuffer.wrap(bytes, offset, length));
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private final class ChannelOutput extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, bytes.length);
            ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}

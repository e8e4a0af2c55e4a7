package org.kvmgdb.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.Listener;

/**
 * A test-only {@link Listener} on a loopback TCP port chosen by the system, so gdb-core's tests do
 * not depend on the transport modules.
 */
public final class LoopbackListener implements Listener {
    private final ServerSocket server;

    public LoopbackListener() throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    public int port() {
        return server.getLocalPort();
    }

    @Override
    public Connection accept() throws IOException {
        return new SocketConnection(server.accept());
    }

    @Override
    public String describe() {
        return "tcp:127.0.0.1:" + port();
    }

    @Override
    public String gdbTarget() {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    /** A {@link Connection} over a socket. */
    public static final class SocketConnection implements Connection {
        private final Socket socket;

        public SocketConnection(Socket socket) throws IOException {
            this.socket = socket;
            socket.setTcpNoDelay(true);
        }

        @Override
        public InputStream input() throws IOException {
            return socket.getInputStream();
        }

        @Override
        public OutputStream output() throws IOException {
            return socket.getOutputStream();
        }

        @Override
        public String peer() {
            InetSocketAddress remote = (InetSocketAddress) socket.getRemoteSocketAddress();
            return remote.getAddress().getHostAddress() + ":" + remote.getPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}

package org.kvmgdb.transport.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.kvmgdb.api.transport.Connection;

/**
 * One accepted TCP connection. A socket's streams may be used by a reading thread and a writing
 * thread at once, which the core needs (it waits for gdb's 0x03 while it sends a stop reply).
 */
final class TcpConnection implements Connection {

    private final Socket socket;
    private final String peer;

    TcpConnection(Socket socket) {
        this.socket = socket;
        InetSocketAddress remote = (InetSocketAddress) socket.getRemoteSocketAddress();
        this.peer = TcpTransportProvider.SCHEME + ":" + TcpAddress.hostForm(remote.getAddress()) + ":" + remote.getPort();
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
        return peer;
    }

    /** For tests: the socket's options. */
    Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    @Override
    public String toString() {
        return peer;
    }
}

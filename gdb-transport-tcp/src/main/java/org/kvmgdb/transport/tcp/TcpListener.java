package org.kvmgdb.transport.tcp;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.Listener;
import org.tinylog.Logger;

/** A bound TCP server socket. Closing it ends a blocked {@link #accept()} with an exception. */
final class TcpListener implements Listener {

    private final ServerSocket server;
    private final InetAddress host;
    private final int port;

    TcpListener(ServerSocket server) {
        this.server = server;
        this.host = server.getInetAddress();
        this.port = server.getLocalPort(); // the real port when 0 was asked for
    }

    @Override
    public Connection accept() throws IOException {
        Socket socket = server.accept();
        try {
            // RSP is many tiny packets, each waiting for an ack: Nagle would delay every one.
            socket.setTcpNoDelay(true);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        TcpConnection connection = new TcpConnection(socket);
        Logger.debug("gdb connected from {}", connection.peer());
        return connection;
    }

    @Override
    public String describe() {
        return TcpTransportProvider.SCHEME + ":" + TcpAddress.hostForm(host) + ":" + port;
    }

    @Override
    public String gdbTarget() {
        // A wildcard listener (--gdb-allow-remote with 0.0.0.0 or [::]) is reached locally through
        // loopback of the same family.
        InetAddress reach = host;
        if (host.isAnyLocalAddress()) {
            reach = host instanceof Inet4Address ? loopback4() : loopback6();
        }
        return TcpAddress.hostForm(reach) + ":" + port;
    }

    private static InetAddress loopback4() {
        return byAddress(new byte[] {127, 0, 0, 1});
    }

    private static InetAddress loopback6() {
        byte[] one = new byte[16];
        one[15] = 1;
        return byAddress(one);
    }

    private static InetAddress byAddress(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** The bound port (the real one when 0 was asked for). */
    int port() {
        return port;
    }

    /** For tests: the server socket's options. */
    ServerSocket serverSocket() {
        return server;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    @Override
    public String toString() {
        return describe();
    }
}

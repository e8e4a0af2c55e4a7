package org.kvmgdb.transport.tcp;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportAddress;
import org.tinylog.Logger;

/** A validated TCP address; {@link #bind()} opens the listening socket. */
final class TcpAddress implements TransportAddress {

    // gdb connects once; a small queue is enough for it and for a refused second debugger.
    private static final int BACKLOG = 4;

    private final InetAddress host;
    private final int port;

    TcpAddress(InetAddress host, int port) {
        this.host = host;
        this.port = port;
    }

    @Override
    public Listener bind() throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            // Lets a restarted stub take its port back while the last session's socket is in
            // TIME_WAIT (Linux still refuses a port someone is listening on).
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(host, port), BACKLOG);
        } catch (IOException e) {
            server.close();
            BindException refused = new BindException(describe() + ": " + e.getMessage() + whatToDo(e.getMessage()));
            refused.initCause(e);
            throw refused;
        }
        TcpListener listener = new TcpListener(server);
        if (!host.isLoopbackAddress()) {
            // parse() let this through only under --gdb-allow-remote: say once, plainly, what it means.
            Logger.warn("{} is not loopback (--gdb-allow-remote): anyone who can reach port {} can read and write"
                    + " the whole VM, its memory and registers; the protocol has no authentication", listener.describe(), listener.port());
        }
        Logger.debug("Waiting for gdb on {} (target remote {})", listener.describe(), listener.gdbTarget());
        return listener;
    }

    /** A hint for the bind(2) errors a user can fix, keyed by the JDK's strerror text. */
    private static String whatToDo(String reason) {
        String r = String.valueOf(reason);
        if (r.contains("in use")) {
            return "; another program (another kvmgdb?) listens there: pick another port, or port 0 to let the system choose";
        }
        if (r.contains("Permission denied")) {
            return "; ports below 1024 need privileges: pick a port from 1024 up";
        }
        if (r.contains("assign requested address")) {
            return "; HOST must be an address of this machine";
        }
        return "";
    }

    @Override
    public String describe() {
        return TcpTransportProvider.SCHEME + ":" + hostForm(host) + ":" + port;
    }

    /** An address as gdb and QEMU write it: IPv6 in brackets. */
    static String hostForm(InetAddress address) {
        String literal = address.getHostAddress();
        if (address instanceof Inet6Address) {
            // Drop a scope such as %lo; gdb would not take it inside brackets anyway.
            int scope = literal.indexOf('%');
            if (scope >= 0) {
                literal = literal.substring(0, scope);
            }
            return "[" + compress(literal) + "]";
        }
        return literal;
    }

    /** Java prints 0:0:0:0:0:0:0:1; users write ::1. */
    private static String compress(String ipv6) {
        String[] groups = ipv6.split(":");
        int bestStart = -1;
        int bestLength = 0;
        for (int i = 0; i < groups.length; ) {
            if (groups[i].equals("0")) {
                int j = i;
                while (j < groups.length && groups[j].equals("0")) {
                    j++;
                }
                if (j - i > bestLength && j - i > 1) {
                    bestStart = i;
                    bestLength = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) {
            return ipv6;
        }
        String head = String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart));
        String tail = String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
        return head + "::" + tail;
    }

    @Override
    public String toString() {
        return describe();
    }
}

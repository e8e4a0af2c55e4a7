package org.kvmgdb.transport.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.List;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportProvider;
import org.kvmgdb.api.transport.contract.TransportContract;

class TcpTransportContractTest extends TransportContract {

    @Override
    protected TransportProvider provider() {
        return new TcpTransportProvider();
    }

    @Override
    protected String freshSpec() {
        return ":0";
    }

    @Override
    protected List<String> malformedSpecs() {
        return List.of("", "1234", ":", "localhost", "localhost:", ":abc", ":65536", ":-1", ":12 34",
                "::1:1234", "[::1]1234", "[::1", "[::1]:", "[127.0.0.1]:1234", "[not-ipv6]:1234",
                "host name:1234", "bad!host:1234", "-leading:1234");
    }

    @Override
    protected SocketChannel connect(Listener listener) throws IOException {
        return SocketChannel.open(gdbTargetAddress(listener.gdbTarget()));
    }

    /** "127.0.0.1:1234" or "[::1]:1234", as gdb reads it. */
    static InetSocketAddress gdbTargetAddress(String target) {
        int colon = target.lastIndexOf(':');
        String host = target.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(target.substring(colon + 1)));
    }
}

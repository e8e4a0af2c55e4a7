package org.kvmgdb.transport.unix;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportProvider;
import org.kvmgdb.api.transport.contract.TransportContract;

class UnixTransportContractTest extends TransportContract {

    @TempDir
    Path directory;
    private int sockets;

    @Override
    protected TransportProvider provider() {
        return new UnixTransportProvider();
    }

    @Override
    protected String freshSpec() {
        return directory.resolve("gdb-" + (++sockets) + ".sock").toString();
    }

    @Override
    protected List<String> malformedSpecs() {
        return List.of("", "/", "/tmp/", "/tmp/nul\0byte.sock", "/tmp/a:b.sock",
                "/tmp/" + "x".repeat(120) + ".sock");
    }

    @Override
    protected SocketChannel connect(Listener listener) throws IOException {
        // gdbTarget() is the bare path gdb 13 connects to.
        return SocketChannel.open(UnixDomainSocketAddress.of(listener.gdbTarget()));
    }
}

package org.kvmgdb.transport.stdio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.List;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportProvider;
import org.kvmgdb.api.transport.contract.TransportContract;

/**
 * The shared suite with two pipes in place of fd 0 and fd 1: gdb's end of them is the client. The
 * process's real fd 0 and fd 1 are exercised by the end-to-end test with real gdb
 * ({@code target remote | bin/kvmgdb run --gdb stdio ...}).
 */
class StdioTransportContractTest extends TransportContract {

    /** gdb's end of the last pair of pipes a bind() took. */
    private GdbEnd lastBound;

    @Override
    protected TransportProvider provider() {
        return new StdioTransportProvider(() -> {
            try {
                Pipe up = Pipe.open();   // gdb writes, the stub reads (its stdin)
                Pipe down = Pipe.open(); // the stub writes (its stdout), gdb reads
                lastBound = new GdbEnd(down.source(), up.sink());
                return new StdioTransportProvider.Streams(Channels.newInputStream(up.source()),
                        Channels.newOutputStream(down.sink()), "stdio (test pipes)");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @Override
    protected String freshSpec() {
        return "";
    }

    @Override
    protected List<String> malformedSpecs() {
        return List.of("0", ":", "/dev/tty", "stdin");
    }

    @Override
    protected boolean singleConnection() {
        return true;
    }

    @Override
    protected ByteChannel connect(Listener listener) {
        return lastBound;
    }

    /** gdb's side: it reads what the stub writes and writes what the stub reads. */
    private record GdbEnd(Pipe.SourceChannel fromStub, Pipe.SinkChannel toStub) implements ByteChannel {
        @Override
        public int read(ByteBuffer dst) throws IOException {
            return fromStub.read(dst);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return toStub.write(src);
        }

        @Override
        public boolean isOpen() {
            return fromStub.isOpen() || toStub.isOpen();
        }

        @Override
        public void close() throws IOException {
            try {
                toStub.close();
            } finally {
                fromStub.close();
            }
        }
    }
}

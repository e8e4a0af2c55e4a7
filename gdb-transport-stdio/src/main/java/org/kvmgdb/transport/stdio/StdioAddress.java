package org.kvmgdb.transport.stdio;

import java.util.function.Supplier;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportAddress;
import org.tinylog.Logger;

/** {@code stdio}: nothing to validate; binding takes hold of the streams. */
final class StdioAddress implements TransportAddress {

    private final Supplier<StdioTransportProvider.Streams> streams;

    StdioAddress(Supplier<StdioTransportProvider.Streams> streams) {
        this.streams = streams;
    }

    @Override
    public Listener bind() {
        StdioTransportProvider.Streams s = streams.get();
        Logger.debug("serving gdb on stdin/stdout ({})", s.peer());
        return new StdioListener(new StdioConnection(s.fromGdb(), s.toGdb(), s.peer()));
    }

    @Override
    public String describe() {
        return StdioTransportProvider.SCHEME;
    }

    @Override
    public String toString() {
        return describe();
    }
}

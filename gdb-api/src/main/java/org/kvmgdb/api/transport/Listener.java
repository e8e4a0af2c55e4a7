package org.kvmgdb.api.transport;

import java.io.Closeable;
import java.io.IOException;

/** A bound listening endpoint. Closing it stops accepting and removes what it created (a socket file). */
public interface Listener extends Closeable {

    /**
     * Blocks until a debugger connects. Several connections may be accepted while an earlier
     * one is still open; the core decides what to do with them (one debugger at a time).
     *
     * @throws IOException also when the listener is closed while waiting
     */
    Connection accept() throws IOException;

    /** The bound address, with any port chosen by the system filled in, e.g. {@code tcp:127.0.0.1:40211}. */
    String describe();

    /** What to type after gdb's {@code target remote} to reach this listener, e.g. {@code localhost:1234}. */
    String gdbTarget();

    @Override
    void close() throws IOException;
}

package org.kvmgdb.transport.stdio;

import java.io.IOException;
import java.io.InterruptedIOException;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.Listener;

/**
 * The one connection stdin/stdout is. The first {@link #accept()} hands it out; no other debugger
 * can ever arrive, so a later one waits until the listener is closed and then throws, which ends
 * the core's accept loop quietly.
 */
final class StdioListener implements Listener {

    private final StdioConnection connection;
    private boolean handedOut;
    private boolean closed;

    StdioListener(StdioConnection connection) {
        this.connection = connection;
    }

    @Override
    public synchronized Connection accept() throws IOException {
        if (!closed && !handedOut) {
            handedOut = true;
            return connection;
        }
        while (!closed) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting on stdio, which has no second debugger to give");
            }
        }
        throw new IOException("stdio listener closed" + (handedOut ? " (its one debugger was " + connection.peer() + ")" : ""));
    }

    @Override
    public String describe() {
        return StdioTransportProvider.SCHEME;
    }

    /** gdb starts the stub itself: what follows {@code target remote} is a pipe to a command. */
    @Override
    public String gdbTarget() {
        return "| kvmgdb run --gdb stdio GUEST.elf";
    }

    @Override
    public void close() throws IOException {
        boolean unused;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            unused = !handedOut;
            notifyAll();
        }
        if (unused) {
            // Nobody took the connection: close it here, so gdb sees the end of the stream.
            connection.close();
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}

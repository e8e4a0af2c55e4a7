package org.kvmgdb.transport.stdio;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.kvmgdb.api.transport.Connection;

/**
 * stdin and stdout as a connection. Reading and writing are independent streams (fd 0 and fd 1),
 * so a thread blocked reading gdb's next byte never holds up a stop reply being written.
 *
 * <p>gdb's {@code target remote |} gives its child one socket as both fd 0 and fd 1 (gdb's
 * ser-pipe.c: a socketpair, dup2'd onto both), so gdb sees the end of the stream only once both
 * are closed: {@link #close()} closes both.
 */
final class StdioConnection implements Connection {

    private final InputStream input;
    private final OutputStream output;
    private final String peer;
    private boolean closed;

    StdioConnection(InputStream input, OutputStream output, String peer) {
        this.input = new Retransmissions(input);
        this.output = output;
        this.peer = peer;
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public String peer() {
        return peer;
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            output.close();
        } finally {
            input.close();
        }
    }

    @Override
    public String toString() {
        return peer;
    }
}

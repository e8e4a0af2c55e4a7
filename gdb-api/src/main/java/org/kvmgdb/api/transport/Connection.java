package org.kvmgdb.api.transport;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** One debugger's byte stream. Reads return -1 once the peer has gone. */
public interface Connection extends Closeable {

    InputStream input() throws IOException;

    OutputStream output() throws IOException;

    /** Who is on the other side, for logs and for the message a refused second debugger gets. */
    String peer();

    @Override
    void close() throws IOException;
}

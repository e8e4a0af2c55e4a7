package org.kvmgdb.transport.unix;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.Listener;
import org.tinylog.Logger;

/** A listening Unix-domain socket at a path. Closing it removes the socket file it created. */
final class UnixListener implements Listener {

    private final ServerSocketChannel server;
    private final Path path;
    private final Object fileKey;
    private boolean closed;

    UnixListener(ServerSocketChannel server, Path path, Object fileKey) {
        this.server = server;
        this.path = path;
        this.fileKey = fileKey;
    }

    @Override
    public Connection accept() throws IOException {
        // Blocking; a close() from another thread ends it with AsynchronousCloseException.
        SocketChannel channel = server.accept();
        UnixConnection connection = new UnixConnection(channel, path);
        Logger.info("gdb connected on {}", connection.peer());
        return connection;
    }

    @Override
    public String describe() {
        return UnixTransportProvider.SCHEME + ":" + path;
    }

    /**
     * gdb 13 takes the bare path: it sees a socket file and connects to it (GDB manual,
     * "Connecting to a Remote Target": {@code target remote /tmp/gdb-socket1}). The
     * {@code unix::PATH} form in newer manuals is not understood by gdb 13.
     */
    @Override
    public String gdbTarget() {
        return path.toString();
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        server.close();
        // Remove the file only if it is still ours: someone may have replaced it since.
        try {
            Object current = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (Objects.equals(current, fileKey)) {
                Files.deleteIfExists(path);
            } else {
                Logger.warn("{} is no longer this stub's socket; leaving it", path);
            }
        } catch (NoSuchFileException e) {
            // Already gone.
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}

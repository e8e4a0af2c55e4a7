package org.kvmgdb.transport.unix;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.Charset;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.api.transport.TransportProvider;

/**
 * {@code --gdb unix:PATH}: a Unix-domain stream socket (Java 16+ {@link
 * java.net.UnixDomainSocketAddress}, no native code). gdb connects with {@code target remote
 * PATH}. The socket file is private to the user (mode 0600), a stale one is replaced and the file
 * is removed on close; see {@link UnixAddress#bind()}.
 */
public final class UnixTransportProvider implements TransportProvider {

    static final String SCHEME = "unix";
    static final String SYNTAX = "unix:PATH";

    /** sun_path in &lt;sys/un.h&gt; is 108 bytes on Linux, including the terminating NUL. */
    static final int SUN_PATH_MAX = 107;

    @Override
    public String scheme() {
        return SCHEME;
    }

    @Override
    public String syntax() {
        return SYNTAX;
    }

    @Override
    public TransportAddress parse(String spec, TransportOptions options) {
        // Only this user can connect (mode 0600), so allowRemote has nothing to add here.
        if (spec == null || spec.isEmpty()) {
            throw malformed("", "the socket path is missing");
        }
        if (spec.endsWith("/")) {
            throw malformed(spec, "PATH must name the socket file, not a directory");
        }
        Path path;
        try {
            path = Path.of(spec).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw malformed(spec, "not a valid path (" + e.getReason() + ")");
        }
        if (path.getParent() == null) {
            throw malformed(spec, "PATH must name the socket file, not a directory");
        }
        if (path.toString().indexOf(':') >= 0) {
            // gdb 13's `target remote` reads anything with a ':' as HOST:PORT.
            throw malformed(spec, "gdb cannot reach a socket whose path contains ':'");
        }
        int length = nativeLength(path);
        if (length > SUN_PATH_MAX) {
            throw malformed(spec, "the path is " + length + " bytes; a Unix socket address holds at most "
                    + SUN_PATH_MAX);
        }
        int privateLength = nativeLength(UnixAddress.privatePathFor(path));
        if (privateLength > SUN_PATH_MAX) {
            throw malformed(spec, "the directory's path is too long: the socket is first created in a private"
                    + " directory beside it, and that path (" + privateLength + " bytes) must fit the "
                    + SUN_PATH_MAX + " bytes of a Unix socket address");
        }
        String unsafe = UnixAddress.unsafeDirectory(path.getParent());
        if (unsafe != null) {
            throw new TransportAddressException("unix:" + spec + ": " + unsafe);
        }
        return new UnixAddress(path);
    }

    @Override
    public String unavailabilityReason() {
        try (ServerSocketChannel probe = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            return null;
        } catch (UnsupportedOperationException | IOException e) {
            return "Unix-domain sockets are not supported here: " + e.getMessage();
        }
    }

    /** Bytes of the path as the kernel will see it (the JVM encodes file names with sun.jnu.encoding). */
    private static int nativeLength(Path path) {
        String encoding = System.getProperty("sun.jnu.encoding");
        Charset charset = encoding != null && Charset.isSupported(encoding) ? Charset.forName(encoding) : Charset.defaultCharset();
        return path.toString().getBytes(charset).length;
    }

    private static TransportAddressException malformed(String spec, String why) {
        return new TransportAddressException("unix:" + spec + ": " + why + ". Expected " + SYNTAX
                + " (e.g. unix:/tmp/kvmgdb.sock).");
    }
}

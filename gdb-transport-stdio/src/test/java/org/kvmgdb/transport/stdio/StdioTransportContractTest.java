package org.kvmgdb.transport.stdio;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportProvider;
import org.kvmgdb.api.transport.contract.TransportContract;

/**
 * The shared suite with two pipes in place of fd 0 and fd 1: gdb's end of them is the client. For
 * the test with real gdb the stub's fd 0 and fd 1 are two FIFOs instead, joined to gdb's
 * {@code target remote | COMMAND} pipe by a shell line. The process's real fd 0 and fd 1 are
 * exercised by the end-to-end test ({@code target remote | bin/kvmgdb run --gdb stdio ...}).
 */
class StdioTransportContractTest extends TransportContract {

    /** The streams the last bind() took. */
    private Binding lastBound;

    @Override
    protected TransportProvider provider() {
        return new StdioTransportProvider(() -> {
            try {
                lastBound = new Binding();
                return lastBound.stubStreams();
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
        return lastBound.gdbEnd;
    }

    /**
     * gdb runs COMMAND with one socket as its stdin and stdout (ser-pipe.c). The line copies that
     * socket into UP (the stub's stdin) and DOWN (the stub's stdout) into it. The copy into UP runs
     * in the background, where sh would give it /dev/null as stdin, hence fd 3. When the stub closes
     * DOWN the foreground cat ends and the background one is killed, so no process holds gdb's
     * socket any more and gdb sees the end of the stream, as it would with a stub that exits.
     */
    @Override
    protected String gdbTargetCommand(Listener listener) throws IOException {
        Path dir = track(new TempDirectory(Files.createTempDirectory("kvmgdb-stdio-"))).path();
        Path up = dir.resolve("up");
        Path down = dir.resolve("down");
        mkfifo(up);
        mkfifo(down);
        lastBound.useFifos(up, down);
        return "target remote | sh -c 'exec 3<&0; cat <&3 >" + up + " & cat <" + down + "; kill $! 2>/dev/null'";
    }

    private static void mkfifo(Path path) throws IOException {
        try {
            Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
            if (mkfifo.waitFor() != 0 || !Files.exists(path)) {
                throw new IOException("mkfifo " + path + " failed (exit " + mkfifo.exitValue() + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted running mkfifo " + path);
        }
    }

    /**
     * One bind()'s stdin and stdout: two pipes whose other ends are {@link #gdbEnd}, or, once
     * {@link #useFifos} was called, two FIFOs. The stub opens them on first use because opening a
     * FIFO blocks until the other side opens it too, and gdb's side exists only once gdb has run
     * COMMAND, after bind().
     */
    private static final class Binding {
        private final Pipe up = Pipe.open();   // gdb writes, the stub reads (its stdin)
        private final Pipe down = Pipe.open(); // the stub writes (its stdout), gdb reads
        final GdbEnd gdbEnd = new GdbEnd(down.source(), up.sink());
        private volatile Path upFifo;
        private volatile Path downFifo;

        Binding() throws IOException {
        }

        void useFifos(Path stdin, Path stdout) throws IOException {
            upFifo = stdin;
            downFifo = stdout;
            gdbEnd.close(); // the pipes are not used
        }

        StdioTransportProvider.Streams stubStreams() {
            InputStream fromGdb = new OpenOnFirstUse.Input(
                    () -> upFifo != null ? new FileInputStream(upFifo.toFile()) : Channels.newInputStream(up.source()),
                    () -> upFifo != null ? releaseFifo(upFifo) : up.source());
            OutputStream toGdb = new OpenOnFirstUse.Output(
                    () -> downFifo != null ? new FileOutputStream(downFifo.toFile()) : Channels.newOutputStream(down.sink()),
                    () -> downFifo != null ? releaseFifo(downFifo) : down.sink());
            return new StdioTransportProvider.Streams(fromGdb, toGdb, "stdio (test pipes or FIFOs)");
        }

        /**
         * Closing a FIFO the stub never opened: open it read-write, which Linux allows without
         * waiting, so that a peer blocked opening the other end goes on and sees the end of the
         * stream (or a broken pipe) once this is closed.
         */
        private static AutoCloseable releaseFifo(Path fifo) throws IOException {
            return new RandomAccessFile(fifo.toFile(), "rw");
        }
    }

    private interface Opener<T> {
        T open() throws IOException;
    }

    /** A stream opened when first read, written or closed; {@code release} stands in for it when it is closed unused. */
    private static final class OpenOnFirstUse<T extends AutoCloseable> {
        private final Opener<T> open;
        private final Opener<AutoCloseable> release;
        private T stream;
        private AutoCloseable unused;

        private OpenOnFirstUse(Opener<T> open, Opener<AutoCloseable> release) {
            this.open = open;
            this.release = release;
        }

        private synchronized T stream() throws IOException {
            if (stream == null) {
                if (unused != null) {
                    throw new IOException("closed");
                }
                stream = open.open();
            }
            return stream;
        }

        private void close() throws IOException {
            AutoCloseable toClose;
            synchronized (this) {
                if (stream == null && unused == null) {
                    unused = release.open();
                }
                toClose = stream != null ? stream : unused;
            }
            try {
                toClose.close();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }

        static final class Input extends InputStream {
            private final OpenOnFirstUse<InputStream> use;

            Input(Opener<InputStream> open, Opener<AutoCloseable> release) {
                this.use = new OpenOnFirstUse<>(open, release);
            }

            @Override
            public int read() throws IOException {
                return use.stream().read();
            }

            @Override
            public int read(byte[] bytes, int offset, int length) throws IOException {
                return use.stream().read(bytes, offset, length);
            }

            @Override
            public int available() throws IOException {
                return use.stream().available();
            }

            @Override
            public void close() throws IOException {
                use.close();
            }
        }

        static final class Output extends OutputStream {
            private final OpenOnFirstUse<OutputStream> use;

            Output(Opener<OutputStream> open, Opener<AutoCloseable> release) {
                this.use = new OpenOnFirstUse<>(open, release);
            }

            @Override
            public void write(int b) throws IOException {
                use.stream().write(b);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                use.stream().write(bytes, offset, length);
            }

            @Override
            public void flush() throws IOException {
                use.stream().flush();
            }

            @Override
            public void close() throws IOException {
                use.close();
            }
        }
    }

    /** A temporary directory, removed with what is in it. */
    private record TempDirectory(Path path) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try (Stream<Path> all = Files.walk(path)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
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

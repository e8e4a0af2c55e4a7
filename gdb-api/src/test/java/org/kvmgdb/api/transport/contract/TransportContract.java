package org.kvmgdb.api.transport.contract;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.api.transport.TransportProvider;

/**
 * What every transport must do, as a user (the core, gdb) sees it. Netty's style: a transport's
 * test class extends this, says how to make a fresh address and how a client connects, and
 * inherits every test.
 *
 * <p>Two kinds of transport pass it. A socket-like one ({@code tcp}, {@code unix}) listens and
 * accepts any number of connections, one after another or at once; gdb reaches it with
 * {@code target remote }{@link Listener#gdbTarget()}. A single-connection one ({@code stdio}) has
 * exactly one connection, there from the start because gdb started the stub and owns both ends;
 * it declares so with {@link #singleConnection()}, and what a second connection must do follows
 * from that declaration. gdb reaches it with {@code target remote | COMMAND}, which such a transport
 * supplies through {@link #gdbTargetCommand(Listener)}. Nothing here is skipped for one kind or
 * the other: a skip only ever means a tool (gdb) or the transport itself is missing on this machine.
 *
 * <p>The class-level {@link Timeout} is a hang guard only, nothing here measures speed: a stream
 * that deadlocks would otherwise stall the build. It runs each test in a separate thread because a
 * thread stuck waiting for a monitor cannot be interrupted.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public abstract class TransportContract {

    /** The provider under test, as ServiceLoader would create it. */
    protected abstract TransportProvider provider();

    /**
     * What follows {@code scheme:} for an address that can be bound right now, a new one on
     * every call (e.g. {@code :0}, or a path in a fresh temporary directory).
     */
    protected abstract String freshSpec() throws IOException;

    /** Specs that are malformed; each must be refused in parse() naming syntax(). */
    protected abstract List<String> malformedSpecs();

    /**
     * Opens a client connection to {@code listener} the way a debugger would (a socket), or, for a
     * {@link #singleConnection()} transport, returns the debugger's end of the one connection the
     * listener was bound with.
     */
    protected abstract ByteChannel connect(Listener listener) throws IOException;

    /**
     * A declared property: this transport carries exactly one connection (stdio). The first
     * {@link Listener#accept()} returns it; a second one blocks until the listener is closed and then
     * throws {@link IOException}, so the core's accept loop simply waits. Socket transports keep the
     * default, false: they accept several connections.
     */
    protected boolean singleConnection() {
        return false;
    }

    /**
     * The gdb command that connects gdb to {@code listener}. A socket transport keeps the default,
     * {@code target remote }{@link Listener#gdbTarget()}; a {@link #singleConnection()} one, whose
     * stub gdb starts itself, returns {@code target remote | COMMAND} with a COMMAND that joins gdb's
     * pipe to the streams {@code listener} was bound with.
     */
    protected String gdbTargetCommand(Listener listener) throws IOException {
        return "target remote " + listener.gdbTarget();
    }

    /** The options the contract parses with. */
    protected TransportOptions options() {
        return TransportOptions.DEFAULTS;
    }

    // Everything a test opens is closed after it, last opened first.
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "transport-contract");
        t.setDaemon(true);
        return t;
    });

    @BeforeEach
    void providerIsAvailable() {
        String reason = provider().unavailabilityReason();
        assumeTrue(reason == null, () -> provider().scheme() + " transport unavailable here: " + reason);
    }

    @AfterEach
    void closeEverything() throws Exception {
        while (!opened.isEmpty()) {
            opened.pop().close();
        }
        threads.shutdownNow();
    }

    protected final <T extends AutoCloseable> T track(T closeable) {
        opened.push(closeable);
        return closeable;
    }

    protected final Listener bindFresh() throws IOException {
        return track(provider().parse(freshSpec(), options()).bind());
    }

    protected final ByteChannel client(Listener listener) throws IOException {
        return track(connect(listener));
    }

    protected final Connection accept(Listener listener) throws IOException {
        return track(listener.accept());
    }

    /** The spec part of a describe() text, i.e. what follows "scheme:"; empty for the bare scheme (stdio). */
    private String specOf(String described) {
        if (described.equals(provider().scheme())) {
            return "";
        }
        String prefix = provider().scheme() + ":";
        assertTrue(described.startsWith(prefix), () -> "'" + described + "' does not start with " + prefix);
        return described.substring(prefix.length());
    }

    // ---- identity --------------------------------------------------------------------------

    @Test
    void registeredForServiceLoader() {
        boolean found = ServiceLoader.load(TransportProvider.class).stream()
                .anyMatch(p -> p.type() == provider().getClass());
        assertTrue(found, () -> provider().getClass().getName()
                + " is not listed in META-INF/services/" + TransportProvider.class.getName());
    }

    @Test
    void syntaxStartsWithScheme() {
        String scheme = provider().scheme();
        assertFalse(scheme.isBlank());
        assertEquals(scheme.toLowerCase(java.util.Locale.ROOT), scheme, "schemes are lower case");
        // "stdio" takes no address: its syntax is the scheme alone.
        assertTrue(provider().syntax().equals(scheme) || provider().syntax().startsWith(scheme + ":"), provider().syntax());
    }

    @Test
    void describeStartsWithSchemeAndParsesBack() throws IOException {
        TransportAddress address = provider().parse(freshSpec(), options());
        specOf(address.describe());

        Listener listener = track(address.bind());
        // What describe() shows must be a valid --gdb value for the same transport.
        TransportAddress again = provider().parse(specOf(listener.describe()), options());
        assertEquals(listener.describe(), again.describe());
        assertFalse(listener.gdbTarget().isBlank());
    }

    @TestFactory
    Stream<DynamicTest> malformedSpecsAreRefusedNamingTheSyntax() {
        List<String> specs = malformedSpecs();
        assertFalse(specs.isEmpty(), "a transport must name some malformed specs");
        return specs.stream().map(spec -> DynamicTest.dynamicTest("refuses '" + spec + "'", () -> {
            TransportAddressException e = assertThrows(TransportAddressException.class,
                    () -> provider().parse(spec, options()));
            assertTrue(e.getMessage().contains(provider().syntax()),
                    () -> "message does not name " + provider().syntax() + ": " + e.getMessage());
        }));
    }

    // ---- bytes -----------------------------------------------------------------------------

    @Test
    void everyByteValueFlowsBothWaysIntact() throws Exception {
        Listener listener = bindFresh();
        ByteChannel client = client(listener);
        Connection connection = accept(listener);
        assertFalse(connection.peer().isBlank(), "peer() names who connected");

        byte[] up = pattern(64 * 1024, 0);
        byte[] down = pattern(64 * 1024, 7);

        // Write both directions at once from separate threads so neither side can stall on a
        // full socket buffer.
        Future<?> clientWrites = threads.submit(() -> writeFully(client, up));
        Future<?> serverWrites = threads.submit(() -> {
            connection.output().write(down);
            connection.output().flush();
            return null;
        });
        assertArrayEquals(up, connection.input().readNBytes(up.length), "client to stub");
        assertArrayEquals(down, readFully(client, down.length), "stub to client");
        clientWrites.get();
        serverWrites.get();
    }

    @Test
    void writingWhileAnotherThreadIsBlockedReading() throws Exception {
        // The core's reader waits for gdb's 0x03 while the session thread sends a stop reply:
        // a read in progress must not hold up a write.
        Listener listener = bindFresh();
        ByteChannel client = client(listener);
        Connection connection = accept(listener);

        CompletableFuture<Integer> read = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                read.complete(connection.input().read());
            } catch (Throwable t) {
                read.completeExceptionally(t);
            }
        }, "contract-reader");
        reader.setDaemon(true);
        reader.start();
        awaitBlockedInNativeCode(reader);

        byte[] reply = "$S05#b8".getBytes(ISO_8859_1);
        connection.output().write(reply);
        connection.output().flush();
        assertArrayEquals(reply, readFully(client, reply.length));

        writeFully(client, new byte[] {0x03});
        assertEquals(0x03, read.get());
    }

    @Test
    void endOfStreamWhenTheClientCloses() throws IOException {
        Listener listener = bindFresh();
        ByteChannel client = client(listener);
        Connection connection = accept(listener);

        writeFully(client, new byte[] {'+'});
        client.close();
        assertEquals('+', connection.input().read());
        assertEquals(-1, connection.input().read(), "EOF once gdb has gone");
        assertEquals(-1, connection.input().read(new byte[16], 0, 16));
    }

    @Test
    void endOfStreamForTheClientWhenTheConnectionCloses() throws IOException {
        Listener listener = bindFresh();
        ByteChannel client = client(listener);
        Connection connection = accept(listener);

        connection.output().write('-');
        connection.output().flush();
        connection.close();
        assertArrayEquals(new byte[] {'-'}, readFully(client, 1));
        assertEquals(-1, client.read(ByteBuffer.allocate(1)), "gdb sees EOF");
        connection.close(); // closing twice is harmless
    }

    // ---- connections and the listener -----------------------------------------------------

    @Test
    void aSecondConnectionMeetsTheDeclaredModel() throws Exception {
        if (singleConnection()) {
            aSecondAcceptWaitsUntilTheListenerCloses();
        } else {
            aSecondConnectionIsAcceptedWhileTheFirstIsOpen();
        }
    }

    /** Socket transports: the transport accepts it; refusing a second debugger is the core's job. */
    private void aSecondConnectionIsAcceptedWhileTheFirstIsOpen() throws IOException {
        Listener listener = bindFresh();
        ByteChannel first = client(listener);
        Connection firstConnection = accept(listener);
        ByteChannel second = client(listener);
        Connection secondConnection = accept(listener);

        writeFully(first, new byte[] {1});
        writeFully(second, new byte[] {2});
        assertEquals(1, firstConnection.input().read());
        assertEquals(2, secondConnection.input().read());

        byte[] reason = "E.one debugger at a time".getBytes(ISO_8859_1);
        secondConnection.output().write(reason);
        secondConnection.close();
        assertArrayEquals(reason, readToEof(second), "the second client gets the reason, then EOF");

        // The first connection is untouched.
        firstConnection.output().write(3);
        firstConnection.output().flush();
        assertArrayEquals(new byte[] {3}, readFully(first, 1));
    }

    /** Single-connection transports: no other debugger can ever arrive, so a second accept() waits. */
    private void aSecondAcceptWaitsUntilTheListenerCloses() throws Exception {
        Listener listener = bindFresh();
        ByteChannel client = client(listener);
        Connection connection = accept(listener);

        // A second accept() waits: no other debugger can ever arrive. Closing the listener ends it.
        CompletableFuture<Connection> second = new CompletableFuture<>();
        Thread accepting = new Thread(() -> {
            try {
                second.complete(listener.accept());
            } catch (Throwable t) {
                second.completeExceptionally(t);
            }
        }, "contract-second-accept");
        accepting.setDaemon(true);
        accepting.start();
        awaitWaiting(accepting);
        assertFalse(second.isDone(), "a second accept() must wait, not return");

        // The one connection is untouched by the waiting accept.
        writeFully(client, new byte[] {5});
        assertEquals(5, connection.input().read());

        listener.close();
        ExecutionException e = assertThrows(ExecutionException.class, second::get);
        assertTrue(e.getCause() instanceof IOException, () -> "expected IOException, got " + e.getCause());
    }

    @Test
    void acceptOnAClosedListenerThrows() throws IOException {
        Listener listener = bindFresh();
        listener.close();
        assertThrows(IOException.class, listener::accept);
        listener.close(); // closing twice is harmless
    }

    @Test
    void closingTheListenerEndsABlockedAccept() throws Exception {
        Listener listener = bindFresh();
        if (singleConnection()) {
            // Its one connection is there at once; the accept that blocks is the one after it.
            client(listener);
            accept(listener);
        }
        CompletableFuture<Connection> accepting = new CompletableFuture<>();
        threads.submit(() -> {
            try {
                accepting.complete(listener.accept());
            } catch (Throwable t) {
                accepting.completeExceptionally(t);
            }
        });
        // Whether the thread is already inside accept() or not yet, it must end with IOException.
        listener.close();
        ExecutionException e = assertThrows(ExecutionException.class, accepting::get);
        assertTrue(e.getCause() instanceof IOException, () -> "expected IOException, got " + e.getCause());
    }

    @Test
    void closeReleasesTheAddress() throws IOException {
        Listener listener = bindFresh();
        // Leave a finished connection behind (TCP's TIME_WAIT) before closing.
        ByteChannel client = client(listener);
        Connection connection = accept(listener);
        connection.close();
        client.close();
        String described = listener.describe();
        listener.close();

        Listener again = track(provider().parse(specOf(described), options()).bind());
        assertEquals(described, again.describe(), "the same address is bound again");
        ByteChannel client2 = client(again);
        Connection connection2 = accept(again);
        writeFully(client2, new byte[] {42});
        assertEquals(42, connection2.input().read());
    }

    // ---- real gdb --------------------------------------------------------------------------

    @Test
    void realGdbConnectsToGdbTarget() throws Exception {
        Path gdb = Path.of("/usr/bin/gdb");
        assumeTrue(Files.isExecutable(gdb), "gdb not installed (/usr/bin/gdb missing): cannot check gdbTarget() with real gdb");

        Listener listener = bindFresh();
        Path log = track(new TempFile(Files.createTempFile("kvmgdb-gdb-", ".log"))).path();
        String targetCommand = gdbTargetCommand(listener);
        Process process = new ProcessBuilder(gdb.toString(), "-nx", "-batch", "-ex", targetCommand)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(new File("/dev/null"))
                .start();
        track(process::destroyForcibly);

        CompletableFuture<Connection> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return accept(listener);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, threads);
        // Either gdb connects, or it gives up (wrong gdbTarget()) and exits first. A single-connection
        // transport's one connection is there at once: gdb's bytes reaching it is what proves the command.
        CompletableFuture.anyOf(accepted, process.onExit()).join();
        if (!accepted.isDone()) {
            listener.close();
            fail("gdb did not connect with '" + targetCommand + "':\n" + Files.readString(log));
        }
        Connection connection = accepted.join();

        // gdb acks anything pending, then opens with qSupported.
        String first = new String(connection.input().readNBytes("+$qSupported".length()), ISO_8859_1);
        connection.close();
        int status = process.waitFor();
        assertEquals("+$qSupported", first, () -> "gdb's first bytes; gdb said:\n" + readQuietly(log));
        assertTrue(status == 0 || status == 1, "gdb exit status " + status);
    }

    // ---- helpers ---------------------------------------------------------------------------

    private record TempFile(Path path) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            Files.deleteIfExists(path);
        }
    }

    private static String readQuietly(Path path) {
        try {
            return Files.readString(path, ISO_8859_1);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    /** {@code length} bytes cycling through all 256 values, starting at {@code start}. */
    protected static byte[] pattern(int length, int start) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (start + i);
        }
        return bytes;
    }

    protected static Void writeFully(ByteChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        return null;
    }

    protected static byte[] readFully(ByteChannel channel, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                fail("EOF after " + buffer.position() + " of " + length + " bytes");
            }
        }
        return buffer.array();
    }

    /**
     * Waits until {@code thread} is inside a native call (a blocking socket read ends in one), so
     * that what the test does next really happens while the read is in progress.
     */
    private static void awaitBlockedInNativeCode(Thread thread) throws InterruptedException {
        while (thread.isAlive() && Arrays.stream(thread.getStackTrace()).noneMatch(StackTraceElement::isNativeMethod)) {
            Thread.sleep(1);
        }
    }

    /** Waits until {@code thread} waits for a monitor or a condition (a second accept() of a single-connection listener). */
    private static void awaitWaiting(Thread thread) throws InterruptedException {
        while (thread.isAlive() && thread.getState() != Thread.State.WAITING && thread.getState() != Thread.State.TIMED_WAITING
                && Arrays.stream(thread.getStackTrace()).noneMatch(StackTraceElement::isNativeMethod)) {
            Thread.sleep(1);
        }
    }

    /** Everything the peer sends until it closes. */
    protected static byte[] readToEof(ByteChannel channel) throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(256);
        while (channel.read(buffer) >= 0) {
            all.write(buffer.array(), 0, buffer.position());
            buffer.clear();
        }
        return all.toByteArray();
    }
}

package org.kvmgdb.transport.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;

/** What is particular to Unix sockets: the file's mode, stale and live sockets, removal on close. */
class UnixTransportProviderTest {

    @TempDir
    Path directory;
    private final UnixTransportProvider provider = new UnixTransportProvider();

    private Listener bind(Path path) throws IOException {
        return provider.parse(path.toString(), TransportOptions.DEFAULTS).bind();
    }

    @Test
    void socketFileHasMode0600AndNothingElseIsLeftBeside() throws IOException {
        Path path = directory.resolve("gdb.sock");
        try (Listener listener = bind(path)) {
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)));
            assertEquals(List.of("gdb.sock"), names(directory), "the private directory is gone");
            assertEquals(path.toString(), listener.gdbTarget());
            assertEquals("unix:" + path, listener.describe());
        }
    }

    @Test
    void aStaleSocketIsReplaced() throws IOException {
        Path path = directory.resolve("gdb.sock");
        // A stub that died leaves its socket file behind: bound, then closed, nothing listening.
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(path));
        }
        assertTrue(Files.exists(path, LinkOption.NOFOLLOW_LINKS), "the stale file is there");

        try (Listener listener = bind(path);
                SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                var connection = listener.accept()) {
            client.write(ByteBuffer.wrap(new byte[] {'+'}));
            assertEquals('+', connection.input().read());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
        }
    }

    @Test
    void aLiveSocketIsRefusedAndLeftAlone() throws IOException {
        Path path = directory.resolve("gdb.sock");
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(path));
            IOException e = assertThrows(IOException.class, () -> bind(path));
            assertTrue(e.getMessage().contains("already listening on " + path), e.getMessage());

            // The other listener still works at its path.
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                    SocketChannel accepted = other.accept()) {
                assertTrue(accepted.isConnected());
            }
            assertEquals(List.of("gdb.sock"), names(directory));
        }
    }

    @Test
    void aFileThatIsNotASocketIsRefusedAndLeftAlone() throws IOException {
        Path path = directory.resolve("notes.txt");
        Files.writeString(path, "keep me");
        IOException e = assertThrows(IOException.class, () -> bind(path));
        assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
        assertEquals("keep me", Files.readString(path));
        assertEquals(List.of("notes.txt"), names(directory), "no private directory left behind");
    }

    @Test
    void aDirectoryIsRefused() throws IOException {
        Path path = Files.createDirectory(directory.resolve("sub"));
        IOException e = assertThrows(IOException.class, () -> bind(path));
        assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
        assertTrue(Files.isDirectory(path));
    }

    @Test
    void aMissingDirectoryIsNamed() {
        Path path = directory.resolve("missing").resolve("gdb.sock");
        IOException e = assertThrows(IOException.class, () -> bind(path));
        assertTrue(e.getMessage().contains(path.getParent() + " does not exist"), e.getMessage());
    }

    @Test
    void theFileIsRemovedOnClose() throws IOException {
        Path path = directory.resolve("gdb.sock");
        Listener listener = bind(path);
        assertTrue(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
        listener.close();
        assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
        assertEquals(List.of(), names(directory));
    }

    @Test
    void closeLeavesAFileThatIsNoLongerOurs() throws IOException {
        Path path = directory.resolve("gdb.sock");
        Listener listener = bind(path);
        Files.delete(path);
        Files.writeString(path, "someone else's");
        listener.close();
        assertEquals("someone else's", Files.readString(path));
    }

    @Test
    void aRelativePathIsMadeAbsolute() {
        String described = provider.parse("kvmgdb-test.sock", TransportOptions.DEFAULTS).describe();
        assertEquals("unix:" + Path.of("kvmgdb-test.sock").toAbsolutePath(), described);
    }

    @Test
    void peerNamesTheConnectingUser() throws IOException {
        Path path = directory.resolve("gdb.sock");
        try (Listener listener = bind(path);
                SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                var connection = listener.accept()) {
            assertEquals("unix:" + path + " (user " + System.getProperty("user.name") + ")", connection.peer());
        }
    }

    @Test
    void aDirectoryOthersMayWriteToIsRefused() throws Exception {
        for (String mode : new String[] {"0777", "0775", "0757"}) {
            Path shared = Files.createDirectory(directory.resolve("shared-" + mode));
            chmod(mode, shared);
            TransportAddressException e = assertThrows(TransportAddressException.class,
                    () -> provider.parse(shared.resolve("gdb.sock").toString(), TransportOptions.DEFAULTS));
            assertTrue(e.getMessage().contains("the directory " + shared + " is writable by") && e.getMessage().contains("without the sticky bit")
                    && e.getMessage().contains("$XDG_RUNTIME_DIR"), mode + ": " + e.getMessage());
            assertEquals(List.of(), names(shared), "nothing was created there");
        }
    }

    @Test
    void aDirectoryThatBecameWritableByOthersAfterParseIsRefusedAtBind() throws Exception {
        Path later = Files.createDirectory(directory.resolve("later"));
        var address = provider.parse(later.resolve("gdb.sock").toString(), TransportOptions.DEFAULTS);
        chmod("0777", later);
        IOException e = assertThrows(IOException.class, address::bind);
        assertTrue(e.getMessage().contains("without the sticky bit"), e.getMessage());
        assertEquals(List.of(), names(later));
    }

    @Test
    void aStickyWorldWritableDirectoryOfOursOrRootsIsAccepted() throws Exception {
        // As /tmp is: others may create files there, but not remove or rename ours.
        Path sticky = Files.createDirectory(directory.resolve("sticky"));
        chmod("1777", sticky);
        Path path = sticky.resolve("gdb.sock");
        try (Listener listener = bind(path)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)));
        }
        Path tmp = Path.of("/tmp");
        assumeTrue(Files.isDirectory(tmp) && Files.isWritable(tmp), "/tmp is not a writable directory here");
        Path inTmp = tmp.resolve("kvmgdb-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".sock");
        try (Listener listener = bind(inTmp)) {
            assertTrue(Files.exists(inTmp, LinkOption.NOFOLLOW_LINKS), "a socket straight in /tmp");
        }
        assertFalse(Files.exists(inTmp, LinkOption.NOFOLLOW_LINKS), "removed on close");
    }

    private static void chmod(String mode, Path path) throws Exception {
        Process p = new ProcessBuilder("chmod", mode, path.toString()).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "chmod " + mode + " " + path + ": " + said);
    }

    @Test
    void malformedMessagesSayWhatIsWrong() {
        assertMessage("", "path is missing");
        assertMessage("/tmp/a:b.sock", "contains ':'");
        assertMessage("/tmp/" + "x".repeat(120), "at most 107");
        // Fits sun_path itself, but not once placed in the private directory beside it.
        assertMessage("/tmp/" + "d".repeat(90) + "/s", "private directory");
    }

    private void assertMessage(String spec, String part) {
        TransportAddressException e = assertThrows(TransportAddressException.class,
                () -> provider.parse(spec, TransportOptions.DEFAULTS));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertTrue(e.getMessage().contains("unix:PATH"), e.getMessage());
    }

    private static List<String> names(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }
}

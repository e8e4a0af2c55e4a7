package org.kvmgdb.transport.unix;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportAddress;
import org.tinylog.Logger;

/**
 * A validated socket path; {@link #bind()} creates the socket file.
 *
 * <p>Java cannot set the umask, and bind(2) creates the file with {@code 0777 & ~umask}, so a
 * socket bound straight at PATH would be connectable by others until a chmod. Instead:
 * <ol>
 *   <li>make a private directory beside PATH with mode 0700 (mkdir applies the mode at
 *       creation; the umask can only narrow it), so nobody else can reach what is inside;
 *   <li>bind the socket in there, chmod it to 0600 and check with getPosixFilePermissions;
 *   <li>hard-link it to PATH: link(2) fails if PATH exists, so nothing that appeared there since
 *       the check is ever replaced, and the file appears at PATH already 0600;
 *   <li>remove the private name and directory. A connect(2) finds the socket by inode, so the
 *       listening socket answers at PATH.
 * </ol>
 * bind(2) and listen(2) both happen in the private directory, so there is no moment at which
 * anyone else can connect: the socket is reachable at PATH only once it is already 0600.
 *
 * <p>The directory PATH is in must not let another user swap the socket for one of theirs (gdb
 * would then talk to their program): see {@link #unsafeDirectory}.
 */
final class UnixAddress implements TransportAddress {

    static final Set<PosixFilePermission> OWNER_READ_WRITE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY = PosixFilePermissions.fromString("rwx------");

    // ".kvmgdb-" + 8 random characters: short, because the private path must also fit sun_path.
    private static final String PRIVATE_PREFIX = ".kvmgdb-";
    private static final int PRIVATE_RANDOM = 8;
    private static final String PRIVATE_NAME = "s";
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int BACKLOG = 4;

    private final Path path;

    UnixAddress(Path path) {
        this.path = path;
    }

    /** The longest private path bind() may use for {@code path}, for the length check in parse(). */
    static Path privatePathFor(Path path) {
        return path.resolveSibling(PRIVATE_PREFIX + "x".repeat(PRIVATE_RANDOM)).resolve(PRIVATE_NAME);
    }

    /**
     * Why a socket in {@code directory} could be replaced by another user, or null when it cannot.
     * A directory others may write to lets them rename or delete our socket and put theirs in its
     * place, unless it has the sticky bit (S_ISVTX: only a file's owner, the directory's owner and
     * root may then remove or rename it) and belongs to root or to us, as {@code /tmp} does. So
     * {@code /tmp} (root, 1777), {@code $XDG_RUNTIME_DIR} (ours, 0700) and a home directory are
     * fine; a group- or world-writable directory without the sticky bit, or a sticky one that
     * another user owns, is refused. A directory that does not exist yet is left to bind().
     */
    static String unsafeDirectory(Path directory) {
        try {
            if (!Files.isDirectory(directory)) {
                return null;
            }
            int mode = (Integer) Files.getAttribute(directory, "unix:mode");
            // <sys/stat.h>: S_IWGRP 0020, S_IWOTH 0002, S_ISVTX 01000.
            boolean othersWrite = (mode & 0022) != 0;
            boolean sticky = (mode & 01000) != 0;
            if (!othersWrite) {
                return null;
            }
            String who = (mode & 0002) != 0 ? "every user" : "its group";
            if (!sticky) {
                return "the directory " + directory + " is writable by " + who + " (mode " + String.format("%04o", mode & 07777)
                        + ") without the sticky bit, so another user could replace the socket with theirs;"
                        + " put it in a directory only you can write to, such as $XDG_RUNTIME_DIR or your home";
            }
            String owner = Files.getOwner(directory).getName();
            if (!owner.equals("root") && !owner.equals(System.getProperty("user.name"))) {
                return "the directory " + directory + " is writable by " + who + " and belongs to " + owner
                        + ", who could replace the socket with theirs; put it in a directory only you can write to,"
                        + " such as $XDG_RUNTIME_DIR, or in /tmp";
            }
            return null;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "cannot check who may write to " + directory + " (" + e.getMessage() + ")";
        }
    }

    @Override
    public Listener bind() throws IOException {
        Path parent = path.getParent();
        if (!Files.isDirectory(parent)) {
            throw new NoSuchFileException(null, null, describe() + ": "
                    + (Files.exists(parent) ? parent + " is not a directory" : "the directory " + parent + " does not exist")
                    + "; create it or give a path in an existing directory");
        }
        // Again here: the directory may have been made, or its mode changed, since parse().
        String unsafe = unsafeDirectory(parent);
        if (unsafe != null) {
            throw new java.nio.file.AccessDeniedException(null, null, describe() + ": " + unsafe);
        }
        removeIfStale();

        Path privateDirectory;
        try {
            privateDirectory = createPrivateDirectory(parent);
        } catch (IOException e) {
            // EACCES, EROFS, ENOSPC...: the socket file cannot be made here at all.
            String reason = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() : e.toString();
            throw new java.nio.file.FileSystemException(null, null, describe() + ": cannot create files in "
                    + parent + " (" + reason + "); give a path in a directory you can write to");
        }
        Path privatePath = privateDirectory.resolve(PRIVATE_NAME);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(privatePath), BACKLOG);
            Files.setPosixFilePermissions(privatePath, OWNER_READ_WRITE);
            Set<PosixFilePermission> actual = Files.getPosixFilePermissions(privatePath, LinkOption.NOFOLLOW_LINKS);
            if (!actual.equals(OWNER_READ_WRITE)) {
                throw new IOException(describe() + ": the socket file has mode "
                        + PosixFilePermissions.toString(actual) + " after chmod 0600; refusing to publish it");
            }
            try {
                Files.createLink(path, privatePath);
            } catch (FileAlreadyExistsException e) {
                throw new FileAlreadyExistsException(null, null,
                        describe() + ": something else created " + path + " while the socket was being set up");
            }
            Object fileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            UnixListener listener = new UnixListener(server, path, fileKey);
            Logger.debug("Waiting for gdb on {} (target remote {})", listener.describe(), listener.gdbTarget());
            return listener;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        } finally {
            Files.deleteIfExists(privatePath);
            Files.deleteIfExists(privateDirectory);
        }
    }

    /**
     * A socket file that nothing answers on is left over from a stub that died: remove it. Refuse
     * anything else at PATH: a live socket (another stub, or something unrelated) or a file that
     * is not a socket.
     */
    private void removeIfStale() throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw new FileAlreadyExistsException(null, null,
                    describe() + ": " + path + " exists and is not a socket; refusing to replace it");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
        } catch (ConnectException e) {
            // ECONNREFUSED: a socket file with no listener behind it.
            Logger.info("Replacing stale socket file {}", path);
            Files.deleteIfExists(path);
            return;
        } catch (IOException e) {
            throw new IOException(describe() + ": cannot tell whether " + path + " is in use: " + e.getMessage(), e);
        }
        throw new BindException(describe() + ": something is already listening on " + path
                + " (another kvmgdb?); refusing to replace it");
    }

    private static boolean isSocket(Path path) throws IOException {
        // st_mode's file type bits, S_IFMT and S_IFSOCK from <sys/stat.h>.
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0140000;
    }

    private static Path createPrivateDirectory(Path parent) throws IOException {
        for (int attempt = 0; ; attempt++) {
            StringBuilder name = new StringBuilder(PRIVATE_PREFIX);
            for (int i = 0; i < PRIVATE_RANDOM; i++) {
                name.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
            }
            try {
                return Files.createDirectory(parent.resolve(name.toString()),
                        PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIRECTORY));
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    @Override
    public String describe() {
        return UnixTransportProvider.SCHEME + ":" + path;
    }

    @Override
    public String toString() {
        return describe();
    }
}

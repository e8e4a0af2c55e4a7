package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A guest started by the assembled launcher, {@code bin/kvmgdb run --gdb tcp:127.0.0.1:0 -S GUEST},
 * as a user starts it. The launcher announces where gdb can reach it on stderr; this reads that
 * line (see {@link #LISTENING}) and gives the address to {@code target remote}.
 */
final class LaunchedGuest implements AutoCloseable {
    /**
     * The launcher's announcement: {@code kvmgdb: waiting for gdb on tcp:127.0.0.1:PORT ...}. The
     * GdbServer's own log line ({@code waiting for a debugger on tcp:...}) is accepted too.
     */
    static final Pattern LISTENING = Pattern.compile("waiting for (?:gdb|a debugger) on tcp:(\\S+?):(\\d+)\\b");

    /** Hang guards, not timing assertions. */
    private static final Duration START_GUARD = Duration.ofMinutes(2);
    private static final Duration EXIT_GUARD = Duration.ofMinutes(2);

    private final Process process;
    private final List<String> command;
    /** The launcher's stdin while it is open (with {@code demo --attach}, what gdb reads). */
    private OutputStream stdin;
    private final StringBuilder out = new StringBuilder();
    private final StringBuilder err = new StringBuilder();
    private final Thread outReader;
    private final Thread errReader;

    private LaunchedGuest(Process process, List<String> command) {
        this.process = process;
        this.command = command;
        this.outReader = collect(process.getInputStream(), out, "stdout");
        this.errReader = collect(process.getErrorStream(), err, "stderr");
        this.stdin = process.getOutputStream();
    }

    /** Skips the calling test when this machine has no usable KVM. */
    static void requireKvm() {
        Path kvm = Path.of("/dev/kvm");
        assumeTrue(Files.exists(kvm), "/dev/kvm is missing: the end-to-end guests need KVM");
        assumeTrue(Files.isReadable(kvm) && Files.isWritable(kvm),
                "/dev/kvm is not readable and writable by this user: join the kvm group to run the end-to-end guests");
    }

    /** The assembled product's launcher; set by the pom as {@code kvmgdb.home}. It is built by {@code mvn package}. */
    static Path launcher() {
        String home = System.getProperty("kvmgdb.home");
        assertTrue(home != null, "kvmgdb.home is not set: these tests run in mvn verify, after package");
        Path script = Path.of(home, "bin", "kvmgdb");
        assertTrue(Files.isExecutable(script), script + " is missing: mvn package assembles it");
        return script;
    }

    /** A guest the distribution build compiled from src/guests (set by the pom as {@code kvmgdb.guests}). */
    static Path guest(String name) {
        String guests = System.getProperty("kvmgdb.guests");
        assertTrue(guests != null, "kvmgdb.guests is not set: these tests run in mvn verify");
        Path elf = Path.of(guests, name);
        assertTrue(Files.isRegularFile(elf), elf + " is missing: the distribution build compiles it with gcc");
        return elf;
    }

    /**
     * The line of {@code src/guests/SOURCE} whose comment says {@code LINE: marker}, so that a test
     * names a place in a guest by its marker and not by a number that an edit of the source moves.
     */
    static int sourceLine(String source, String marker) {
        Path path = Path.of("src/guests", source);
        try {
            List<String> lines = Files.readAllLines(path);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).contains("/* LINE: " + marker + " */")) {
                    return i + 1;
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read " + path.toAbsolutePath() + ": " + e);
        }
        throw new AssertionError("no line marked '" + marker + "' in " + path);
    }

    /** {@code kvmgdb run --gdb tcp:127.0.0.1:0 -S GUEST}: stopped before its first instruction, waiting for gdb. */
    static LaunchedGuest startWaiting(Path guest) throws IOException {
        return startWaiting(guest, new String[0]);
    }

    /** The same with more {@code kvmgdb run} options before the guest, e.g. {@code --cpus 2}. */
    static LaunchedGuest startWaiting(Path guest, String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of(launcher().toString(), "run", "--gdb", "tcp:127.0.0.1:0", "-S"));
        command.addAll(List.of(options));
        command.add(guest.toString());
        LaunchedGuest launched = new LaunchedGuest(new ProcessBuilder(command).start(), command);
        launched.closeStdin();
        return launched;
    }

    /**
     * Exactly {@code command} (for example {@code kvmgdb run GUEST} with no debugger, or the
     * launcher behind a wrapper such as {@code env}), stdin closed.
     */
    static LaunchedGuest start(List<String> command) throws IOException {
        LaunchedGuest launched = new LaunchedGuest(new ProcessBuilder(command).start(), List.copyOf(command));
        launched.closeStdin();
        return launched;
    }

    /**
     * {@code kvmgdb demo OPTIONS...}: the bundled demo guest. The launcher's stdin stays open for
     * {@link #send(String...)}: with {@code --attach} gdb inherits it, as it would a terminal.
     */
    static LaunchedGuest demo(String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of(launcher().toString(), "demo"));
        command.addAll(List.of(options));
        return new LaunchedGuest(new ProcessBuilder(command).start(), command);
    }

    /** Writes lines to the launcher's stdin, as a user types them. */
    void send(String... lines) throws IOException {
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            text.append(line).append('\n');
        }
        stdin.write(text.toString().getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    /** End of input, as Ctrl-D on a terminal: a gdb reading it quits. */
    void closeStdin() throws IOException {
        stdin.close();
    }

    ProcessHandle handle() {
        return process.toHandle();
    }

    private Thread collect(InputStream stream, StringBuilder into, String name) {
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (InputStream in = stream) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    synchronized (this) {
                        into.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                        notifyAll();
                    }
                }
            } catch (IOException e) {
                synchronized (this) {
                    into.append("\n[reading the launcher's ").append(name).append(" failed: ").append(e).append("]\n");
                }
            } finally {
                synchronized (this) {
                    notifyAll();
                }
            }
        }, "kvmgdb " + name);
        reader.setDaemon(true);
        reader.start();
        return reader;
    }

    /**
     * Waits for the launcher to say where it listens, and returns what follows {@code target remote}
     * ({@code HOST:PORT}). Fails with everything the launcher printed when it exits first.
     */
    String awaitGdbTarget() throws InterruptedException {
        Matcher m = await(err, errReader, LISTENING, "say where gdb can reach it");
        return m.group(1) + ":" + m.group(2);
    }

    /** Waits for a line of stdout (gdb's, with {@code demo --attach}, and the guest's serial output) matching {@code regex}. */
    Matcher awaitStdout(String regex) throws InterruptedException {
        return await(out, outReader, Pattern.compile(regex, Pattern.MULTILINE), "print /" + regex + "/ on stdout");
    }

    /** Waits for stderr to match {@code regex}. */
    Matcher awaitStderr(String regex) throws InterruptedException {
        return await(err, errReader, Pattern.compile(regex, Pattern.MULTILINE), "print /" + regex + "/ on stderr");
    }

    /** Waits for a match in {@code stream}; fails with everything printed when the stream ends first. */
    private Matcher await(StringBuilder stream, Thread reader, Pattern pattern, String what) throws InterruptedException {
        long deadline = System.nanoTime() + START_GUARD.toNanos();
        synchronized (this) {
            while (true) {
                Matcher m = pattern.matcher(stream.toString()); // a copy: the readers go on appending
                if (m.find()) {
                    return m;
                }
                if (!reader.isAlive()) {
                    throw new AssertionError("the launcher " + (process.isAlive() ? "closed its output" : "ended (status "
                            + process.exitValue() + ")") + " without having been seen to " + what + "\n" + this);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("the launcher was not seen to " + what + "\n" + this);
                }
                TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
        }
    }

    /**
     * Waits for the launcher to exit (the guest ended) and returns its exit status, or empty when it
     * is still running after the hang guard (the caller asserts, so gdb's output is not lost).
     */
    OptionalInt awaitExit() throws InterruptedException {
        if (!process.waitFor(EXIT_GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
            return OptionalInt.empty();
        }
        outReader.join();
        errReader.join();
        return OptionalInt.of(process.exitValue());
    }

    /** The guest's serial output (COM1) so far. */
    synchronized String stdout() {
        return out.toString();
    }

    synchronized String stderr() {
        return err.toString();
    }

    @Override
    public void close() {
        // A gdb the launcher started (demo --attach) first, so that none outlives a failed test.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }

    @Override
    public synchronized String toString() {
        return String.join(" ", command) + "\n--- launcher stdout\n" + out + "--- launcher stderr\n" + err;
    }
}

package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.core.testing.RspClient;

/**
 * A debugger vanishes (its socket closed without a word: a raw RSP client that closes, or gdb
 * SIGKILLed) at each moment of a session, on the real faults.c guest under {@code bin/kvmgdb run
 * --gdb tcp:127.0.0.1:0 -S}. Each time the guest must run on and end as it does with no debugger at
 * all: the same exit status and the same checksum over its own image (text, data, bss: every byte
 * a debugger could have patched), and a new debugger must be able to attach before it ends.
 *
 * <p>How a moment is reached: faults.c spins in {@code hold_here()} while {@code hold} is 1 (0 as
 * built, so an undebugged run passes straight through). A first client sets it over the wire and
 * detaches, so the guest is running, held in that loop, printing {@code holding N} lines; the
 * faulting client then attaches (the stub stops the guest), does its part and vanishes; the test
 * waits for the launcher's log line saying that session ended, and a last client attaches,
 * answers {@code ?}, clears {@code hold} and detaches. Where the faulting client saw the guest stopped
 * and read its tick count N, a {@code holding N+2} line afterwards proves the vanishing itself let the
 * guest run on (a single step cannot print a whole line). The -S variants need no other debugger:
 * the first client of a guest that has not run an instruction vanishes, and the guest can only end
 * if the stub lets it go.
 *
 * <p>A completed write is the debugger's own doing and changes memory on purpose; the test writes
 * to {@code scratch}, which the guest itself rewrites before it checksums, so a stub that wrote
 * the right bytes leaves the checksum as it is, while one that also touched anything else (a
 * neighbour, an int3 it forgot) changes it. Partial writes aim at {@code constants}, which the guest
 * never writes: any of their bytes applied changes the checksum.
 *
 * <p>No sleeps: every wait is for a line of output or a reply; the launcher's own guards bound hangs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultInjectionTest {
    /** faults.c's EXIT_CODE, as the exit port turns it into the launcher's status. */
    private static final int EXIT_CODE = 5;

    /** The launcher's log line for each session's end (DebugSession). */
    /** A hang guard for the launcher's exit after a signal, not a speed assertion (that is logged). */
    private static final long SIGNAL_HANG_GUARD_SECONDS = 20;

    private static final String SESSION_ENDED = "debugger session from [^\\n]+? ended: (\\w+)";

    private Path elf;
    private final Map<String, Long> symbols = new HashMap<>();
    /** What an undebugged run ends with. */
    private int undebuggedStatus;
    private String undebuggedChecksum;

    @BeforeAll
    void runWithoutADebugger() throws Exception {
        // -Dtest=... overrides the pom's split, so with it this class is also picked at `test`, before
        // package has assembled the launcher; it runs in the end-to-end execution, which sets these.
        assumeTrue(System.getProperty("kvmgdb.home") != null && System.getProperty("kvmgdb.guests") != null,
                "kvmgdb.home/kvmgdb.guests are not set: this end-to-end test runs at integration-test, after package");
        GdbBatch gdb = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        elf = LaunchedGuest.guest("faults.elf");
        List<String> names = List.of("hold", "stall", "ticks", "scratch", "constants", "spin_turns",
                "rewrite_scratch", "checksum_image", "_start", "__image_end");
        GdbBatch batch = gdb.file(elf).section("symbols");
        for (String name : names) {
            batch.commands("printf \"" + name + "=%lx\\n\", &" + name);
        }
        GdbBatch.Result result = batch.run();
        for (String name : names) {
            symbols.put(name, Long.parseUnsignedLong(result.find("symbols", "^" + Pattern.quote(name) + "=([0-9a-f]+)$"), 16));
        }

        try (LaunchedGuest guest = LaunchedGuest.start(List.of(LaunchedGuest.launcher().toString(), "run", elf.toString()))) {
            OptionalInt status = guest.awaitExit();
            assertEquals(EXIT_CODE << 1 | 1, status.orElse(-1), "the undebugged run:\n" + guest);
            undebuggedStatus = status.getAsInt();
            undebuggedChecksum = checksum(guest);
        }
    }

    // ---- 1. before the first packet ----

    @Test
    void closedBeforeItsFirstPacketTheFirstClientOfAGuestHeldByDashSLetsItStart() throws Exception {
        try (Launched run = new Launched()) {
            new RspClient(run.port).close();
            run.assertEndsAsUndebugged();
        }
    }

    @Test
    void closedBeforeItsFirstPacketWhileTheGuestHolds() throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            new RspClient(run.port).close();
            run.awaitSessionEnded("DISCONNECTED");
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    // ---- 2. mid-packet ----

    @Test
    void closedMidPacketTheFirstClientOfAGuestHeldByDashSLetsItStart() throws Exception {
        try (Launched run = new Launched()) {
            try (RspClient client = new RspClient(run.port)) {
                client.sendRaw("$m1000,");
            }
            run.assertEndsAsUndebugged();
        }
    }

    @Test
    void closedMidPacketWhileTheGuestHolds() throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            try (RspClient client = new RspClient(run.port)) {
                client.sendRaw("$m1000,");
            }
            run.awaitSessionEnded("DISCONNECTED");
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    // ---- 3. while the guest runs after c ----

    @Test
    void closedWhileRunningAfterContinueTheFirstClientOfAGuestHeldByDashS() throws Exception {
        try (Launched run = new Launched()) {
            try (RspClient client = new RspClient(run.port)) {
                stopReply(client);
                client.post("c");
            }
            run.assertEndsAsUndebugged();
        }
    }

    @Test
    void closedWhileTheGuestRunsAfterContinue() throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            try (RspClient client = new RspClient(run.port)) {
                stopReply(client);
                long ticks = readLong(client, "ticks");
                client.post("c");
                // Seen running under this continue: two more ticks.
                run.guest.awaitStdout("^holding " + (ticks + 2) + "$");
            }
            run.awaitSessionEnded("DISCONNECTED");
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    // ---- 4. during a step ----

    @Test
    void closedRightAfterASingleStep() throws Exception {
        closedRightAfterResuming(thread -> "s");
    }

    @Test
    void closedRightAfterAvContStep() throws Exception {
        closedRightAfterResuming(thread -> "vCont;s:" + thread);
    }

    @Test
    void closedDuringARangeStepThatCannotEndWhileTheGuestHolds() throws Exception {
        // The range is the whole image: while hold is 1 the pc never leaves it, so the stub is still
        // stepping in the vCPU thread when the client goes.
        closedRightAfterResuming(thread -> "vCont;r" + hex(symbol("_start")) + "," + hex(symbol("__image_end")) + ":" + thread);
    }

    private void closedRightAfterResuming(java.util.function.Function<String, String> resume) throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            long ticks;
            try (RspClient client = new RspClient(run.port)) {
                String thread = threadOf(stopReply(client));
                ticks = readLong(client, "ticks");
                client.post(resume.apply(thread));
            }
            run.awaitSessionEnded("DISCONNECTED");
            run.awaitRunningPast(ticks);
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    @Test
    void gdbKilledDuringANextThatNeverEnds() throws Exception {
        try (Launched run = new Launched()) {
            int spin = line("spin");
            GdbBatch gdb = GdbBatch.gdb().file(elf)
                    .section("to the spin line").commands("target remote " + run.target, "set var hold = 1", "set var stall = 1",
                            "break faults.c:" + spin, "continue", "delete")
                    // With stall set, the spin line loops on itself: gdb's next is one vCont;r that does not end.
                    .section("next").commands("set debug remote 1", "next");
            String output;
            try (GdbBatch.Running running = gdb.start()) {
                running.awaitOutput("Sending packet: \\$vCont;r");
                running.kill();
                output = running.outputSoFar();
            }
            assertTrue(Pattern.compile("^Breakpoint 1, spin_turns \\(\\) at .*faults\\.c:" + spin + "$", Pattern.MULTILINE)
                    .matcher(output).find(), output);
            run.awaitSessionEnded("DISCONNECTED");
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    // ---- 5. stopped with breakpoints and a watchpoint inserted ----

    @Test
    void closedWhileStoppedAtABreakpointWithOthersAHardwareBreakpointAndAWatchpointInserted() throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            long ticks;
            try (RspClient client = new RspClient(run.port)) {
                stopReply(client);
                // If any of these stayed: the int3s end the VM at the next tick or before the checksum,
                // DR0 ends it in rewrite_scratch, the watchpoint stops it at the first write to scratch[3].
                assertEquals("OK", client.request("Z0," + hex(symbol("spin_turns")) + ",1"));
                assertEquals("OK", client.request("Z0," + hex(symbol("checksum_image")) + ",1"));
                assertEquals("OK", client.request("Z1," + hex(symbol("rewrite_scratch")) + ",1"));
                assertEquals("OK", client.request("Z2," + hex(symbol("scratch") + 3) + ",1"));
                client.post("c");
                String stop = client.awaitReply();
                Matcher rip = Pattern.compile("^T05.*;10:([0-9a-f]{16});").matcher(stop);
                assertTrue(rip.find() && littleEndian(rip.group(1)) == symbol("spin_turns"), "stopped at spin_turns' breakpoint: " + stop);
                ticks = readLong(client, "ticks");
            }
            run.awaitSessionEnded("DISCONNECTED");
            run.awaitRunningPast(ticks);
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    @Test
    void gdbKilledWhileStoppedWithBreakHbreakAndWatch() throws Exception {
        try (Launched run = new Launched("--log-packets")) {
            GdbBatch gdb = GdbBatch.gdb().file(elf)
                    // Without it gdb takes its breakpoints out at every stop, and none would be in when it dies.
                    .section("stop").commands("set breakpoint always-inserted on", "target remote " + run.target, "set var hold = 1",
                            "break hold_here", "continue",
                            "break spin_turns", "hbreak rewrite_scratch", "watch scratch[3]", "continue", "print ticks")
                    // Holds gdb, connected and stopped, inside its own process until it is killed.
                    .section("held").commands("python import time; time.sleep(600)");
            String output;
            try (GdbBatch.Running running = gdb.start()) {
                running.awaitOutput("^@@@ held$");
                running.kill();
                output = running.outputSoFar();
            }
            assertTrue(Pattern.compile("^Breakpoint 2, spin_turns \\(\\) at .*faults\\.c:\\d+$", Pattern.MULTILINE).matcher(output).find(),
                    output);
            assertTrue(output.contains("Hardware watchpoint 4: scratch[3]"), output);
            assertInsertedAndNeverRemoved(run.guest, "Z0," + address(output, "Breakpoint 2 at 0x([0-9a-f]+)"),
                    "Z1," + address(output, "Hardware assisted breakpoint 3 at 0x([0-9a-f]+)"), "Z2," + hex(symbol("scratch") + 3));
            Matcher ticks = Pattern.compile("^\\$1 = (\\d+)$", Pattern.MULTILINE).matcher(output);
            assertTrue(ticks.find(), output);
            run.awaitSessionEnded("DISCONNECTED");
            run.awaitRunningPast(Long.parseLong(ticks.group(1)));
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    // ---- 6. during a memory write ----

    @Test
    void closedInsideAnXPacket() throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            try (RspClient client = new RspClient(run.port)) {
                stopReply(client);
                client.sendRaw("$X" + hex(symbol("constants")) + ",8:\u00ff\u0000}");
            }
            run.awaitSessionEnded("DISCONNECTED");
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    @Test
    void closedInsideAnMPacket() throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            try (RspClient client = new RspClient(run.port)) {
                stopReply(client);
                client.sendRaw("$M" + hex(symbol("constants")) + ",8:ffee00");
            }
            run.awaitSessionEnded("DISCONNECTED");
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    @Test
    void closedAfterCompletedWritesTheGuestThenOverwrites() throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            long scratch = symbol("scratch");
            try (RspClient client = new RspClient(run.port)) {
                stopReply(client);
                assertEquals("OK", client.request("M" + hex(scratch) + ",10:" + "ff".repeat(16)));
                // X with every byte the protocol escapes.
                byte[] x = RspClient.escape(new byte[] {'$', '#', '}', '*'});
                assertEquals("OK", client.request("X" + hex(scratch + 16) + ",4:" + new String(x, java.nio.charset.StandardCharsets.ISO_8859_1)));
                assertEquals("ff".repeat(16) + "24237d2a", client.request("m" + hex(scratch) + ",14"), "the writes took effect");
            }
            run.awaitSessionEnded("DISCONNECTED");
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    // ---- 50 attach/detach cycles ----

    @Test
    void fiftyAttachDetachCyclesOnOneRunningGuest() throws Exception {
        try (Launched run = new Launched()) {
            run.holdInItsLoop();
            long ticks = 0;
            for (int cycle = 1; cycle <= 50; cycle++) {
                try (RspClient client = new RspClient(run.port)) {
                    stopReply(client);
                    String registers = client.request("g");
                    assertTrue(registers.matches("[0-9a-fx]{64,}"), "cycle " + cycle + ": g answered " + registers);
                    // Harmless while the guest holds; fatal before the checksum if it stayed.
                    assertEquals("OK", client.request("Z0," + hex(symbol("checksum_image")) + ",1"), "cycle " + cycle);
                    ticks = readLong(client, "ticks");
                    detach(client);
                }
                run.awaitSessionEnded("DETACHED");
            }
            run.awaitRunningPast(ticks);
            run.attachReleaseAndAwaitTheEnd();
        }
    }

    // ---- SIGTERM and Ctrl-C to the launcher ----

    @Test
    void sigtermWithAClientAttachedOverTcpBreakpointsInAndTheGuestHeld() throws Exception {
        signalWithAClientAttachedOverTcp("TERM", 15);
    }

    @Test
    void ctrlCWithAClientAttachedOverTcpBreakpointsInAndTheGuestHeld() throws Exception {
        signalWithAClientAttachedOverTcp("INT", 2);
    }

    @Test
    void sigtermWithGdbAttachedOverAUnixSocketBreakpointsInAndTheGuestHeld(@TempDir Path dir) throws Exception {
        signalWithGdbAttachedOverAUnixSocket(dir, "TERM", 15);
    }

    @Test
    void ctrlCWithGdbAttachedOverAUnixSocketBreakpointsInAndTheGuestHeld(@TempDir Path dir) throws Exception {
        signalWithGdbAttachedOverAUnixSocket(dir, "INT", 2);
    }

    /**
     * {@code env --default-signal}: a shell that starts a job in the background without job control
     * (as a build tool may) makes it ignore SIGINT, and a JVM leaves an ignored SIGINT ignored; a
     * user's Ctrl-C reaches a launcher in the foreground, where it is not.
     */
    private List<String> launchedForSignals(String gdb) {
        return List.of("env", "--default-signal=INT,TERM", LaunchedGuest.launcher().toString(), "run", "--log-packets", "--gdb", gdb,
                "-S", elf.toString());
    }

    private void signalWithAClientAttachedOverTcp(String signal, int number) throws Exception {
        try (LaunchedGuest guest = LaunchedGuest.start(launchedForSignals("tcp:127.0.0.1:0"))) {
            String target = guest.awaitGdbTarget();
            int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
            try (RspClient client = new RspClient(port)) {
                stopReply(client);
                assertEquals("OK", client.request("Z0," + hex(symbol("spin_turns")) + ",1"));
                assertEquals("OK", client.request("Z1," + hex(symbol("rewrite_scratch")) + ",1"));
                assertEquals("OK", client.request("Z2," + hex(symbol("scratch") + 3) + ",1"));
                OptionalInt status = signalAndAwaitExit(guest, signal, "tcp");
                assertEquals(128 + number, status.orElse(-1), "the launcher ends as a process killed by SIG" + signal + ":\n" + guest);
                assertEquals("", client.readToEnd(), "the client's connection was closed");
            }
            assertTrue(refused(port), "nothing listens on port " + port + " any more");
            assertTrue(Pattern.compile(SESSION_ENDED.replace("(\\w+)", "CLOSED")).matcher(guest.stderr()).find(),
                    "the stub ended the session (detaching the target) before the process went:\n" + guest);
        }
    }

    private void signalWithGdbAttachedOverAUnixSocket(Path dir, String signal, int number) throws Exception {
        Path socket = dir.resolve("faults.sock");
        try (LaunchedGuest guest = LaunchedGuest.start(launchedForSignals("unix:" + socket))) {
            guest.awaitStderr("waiting for gdb on unix:");
            assertTrue(Files.exists(socket), socket + " exists while the launcher listens");
            GdbBatch gdb = GdbBatch.gdb().file(elf)
                    .section("attach").commands("set breakpoint always-inserted on", "target remote " + socket,
                            "break spin_turns", "hbreak rewrite_scratch", "watch scratch[3]")
                    .section("held").commands("python import time; time.sleep(600)");
            try (GdbBatch.Running running = gdb.start()) {
                running.awaitOutput("^@@@ held$");
                String output = running.outputSoFar();
                assertTrue(output.contains("Hardware watchpoint 3: scratch[3]"), output);
                assertInsertedAndNeverRemoved(guest, "Z0," + address(output, "Breakpoint 1 at 0x([0-9a-f]+)"),
                        "Z1," + address(output, "Hardware assisted breakpoint 2 at 0x([0-9a-f]+)"), "Z2," + hex(symbol("scratch") + 3));
                OptionalInt status = signalAndAwaitExit(guest, signal, "unix");
                assertEquals(128 + number, status.orElse(-1), "the launcher ends as a process killed by SIG" + signal + ":\n" + guest);
            }
            assertTrue(!Files.exists(socket), socket + " was removed");
            assertTrue(Pattern.compile(SESSION_ENDED.replace("(\\w+)", "CLOSED")).matcher(guest.stderr()).find(),
                    "the stub ended the session (detaching the target) before the process went:\n" + guest);
        }
    }

    /** Sends the signal to the launcher and waits for it to exit; logs how long that took (a speed figure, not asserted). */
    private static OptionalInt signalAndAwaitExit(LaunchedGuest guest, String signal, String transport) throws Exception {
        long pid = guest.handle().pid();
        long sent = System.nanoTime();
        Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).redirectErrorStream(true).start();
        String said = new String(kill.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, kill.waitFor(), "kill -s " + signal + " " + pid + ": " + said);
        try {
            guest.handle().onExit().get(SIGNAL_HANG_GUARD_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the launcher was still running " + SIGNAL_HANG_GUARD_SECONDS + " s after SIG" + signal + ":\n" + guest);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
        System.out.println("FaultInjectionTest: SIG" + signal + " to the launcher with a debugger attached over " + transport + ": exited after " + millis + " ms");
        OptionalInt status = guest.awaitExit();
        assertEquals("", guest.stdout(), "the held guest never ran, not even while the launcher shut down:\n" + guest);
        return status;
    }

    /** The address gdb printed where {@code regex}'s group is. */
    private static String address(String gdbOutput, String regex) {
        Matcher m = Pattern.compile(regex).matcher(gdbOutput);
        assertTrue(m.find(), "/" + regex + "/ not in:\n" + gdbOutput);
        return m.group(1);
    }

    /** The stub's packet log (--log-packets) shows each packet received, and no removal of it. */
    private static void assertInsertedAndNeverRemoved(LaunchedGuest guest, String... inserts) {
        String log = guest.stderr();
        for (String insert : inserts) {
            assertTrue(log.contains("<- $" + insert + ","), insert + " was received:\n" + log);
            assertTrue(!log.contains("<- $z" + insert.substring(1) + ","), insert + " was never removed by gdb:\n" + log);
        }
    }

    // ---- helpers ----

    /** One launch of faults.elf with {@code --gdb tcp:127.0.0.1:0 -S}, and the sessions it has seen end. */
    private final class Launched implements AutoCloseable {
        final LaunchedGuest guest;
        final String target;
        final int port;
        private int sessionsEnded;

        Launched(String... options) throws IOException, InterruptedException {
            guest = LaunchedGuest.startWaiting(elf, options);
            target = guest.awaitGdbTarget();
            port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
        }

        /** A first client sets hold and detaches; the guest then runs until it prints its first tick. */
        void holdInItsLoop() throws IOException, InterruptedException {
            try (RspClient client = new RspClient(port)) {
                stopReply(client);
                write(client, "hold", "01000000");
                detach(client);
            }
            awaitSessionEnded("DETACHED");
            guest.awaitStdout("^holding 1$");
        }

        /** Waits for the launcher to log the end of the next session, and checks how it ended. */
        void awaitSessionEnded(String how) throws InterruptedException {
            sessionsEnded++;
            // Atomic groups: each repetition takes the next log line and keeps it, so a miss does not backtrack.
            Matcher m = guest.awaitStderr("\\A(?:(?>[\\s\\S]*?" + SESSION_ENDED + ")){" + sessionsEnded + "}");
            assertEquals(how, m.group(1), "session " + sessionsEnded + " ended as " + m.group(1) + ":\n" + guest);
        }

        /** The guest printed a tick two beyond {@code ticks}: it ran on after the session that saw {@code ticks} ended. */
        void awaitRunningPast(long ticks) throws InterruptedException {
            guest.awaitStdout("^holding " + (ticks + 2) + "$");
        }

        /** A new debugger attaches ({@code ?} answered), lets the guest out of its loop and detaches; the guest ends. */
        void attachReleaseAndAwaitTheEnd() throws IOException, InterruptedException {
            try (RspClient client = new RspClient(port)) {
                stopReply(client);
                write(client, "stall", "00000000");
                write(client, "hold", "00000000");
                detach(client);
            }
            assertEndsAsUndebugged();
        }

        void assertEndsAsUndebugged() throws InterruptedException {
            OptionalInt status = guest.awaitExit();
            assertEquals(undebuggedStatus, status.orElse(-1), "exit status" + (status.isEmpty() ? " (still running)" : "") + ":\n" + guest);
            assertEquals(undebuggedChecksum, checksum(guest), "the checksum the guest printed over its image:\n" + guest);
        }

        @Override
        public void close() {
            guest.close();
        }
    }

    /** The line of faults.c whose comment says {@code LINE: marker}. */
    private static int line(String marker) {
        return LaunchedGuest.sourceLine("faults.c", marker);
    }

    private static String checksum(LaunchedGuest guest) {
        Matcher m = Pattern.compile("^checksum (\\d+)$", Pattern.MULTILINE).matcher(guest.stdout());
        assertTrue(m.find(), "the guest printed no checksum:\n" + guest);
        return m.group(1);
    }

    private long symbol(String name) {
        Long address = symbols.get(name);
        assertTrue(address != null, name);
        return address;
    }

    private static String hex(long value) {
        return Long.toHexString(value);
    }

    /** {@code ?}: a stop reply (the guest is stopped while a debugger is attached). */
    private static String stopReply(RspClient client) throws IOException {
        String reply = client.request("?");
        assertTrue(reply.matches("[ST][0-9a-f]{2}.*"), "? answered " + reply);
        return reply;
    }

    private static String threadOf(String stopReply) {
        Matcher m = Pattern.compile("thread:([0-9a-f.p-]+);").matcher(stopReply);
        assertTrue(m.find(), "no thread in " + stopReply);
        return m.group(1);
    }

    private void write(RspClient client, String name, String littleEndianHex) throws IOException {
        assertEquals("OK", client.request("M" + hex(symbol(name)) + "," + littleEndianHex.length() / 2 + ":" + littleEndianHex));
    }

    private long readLong(RspClient client, String name) throws IOException {
        String bytes = client.request("m" + hex(symbol(name)) + ",8");
        assertTrue(bytes.matches("[0-9a-f]{16}"), name + ": " + bytes);
        return littleEndian(bytes);
    }

    /** Eight bytes in hex, least significant first, as {@code m} and register values come. */
    private static long littleEndian(String hex16) {
        long value = 0;
        for (int i = 7; i >= 0; i--) {
            value = value << 8 | Integer.parseInt(hex16.substring(2 * i, 2 * i + 2), 16);
        }
        return value;
    }

    private static void detach(RspClient client) throws IOException {
        assertEquals("OK", client.request("D"));
        assertEquals("", client.readToEnd(), "the stub closes the connection after D");
    }

    /** Nothing listens on {@code port} any more. */
    static boolean refused(int port) throws IOException {
        try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }
}

package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/kvmgdb demo} as a user meets it: the bundled demo guest (src/guests/demo.c, shipped in
 * share/guests) stopped before its first instruction, with the gdb command to attach printed, or
 * with {@code --attach} a gdb started on the launcher's terminal (here: its stdin and stdout). Each
 * test launches the demo once. Line numbers are demo.c's.
 */
class DemoTest {
    /** The port the demo prefers (QEMU's and gdb users' habit). */
    private static final int PREFERRED_PORT = 1234;
    /** How the demo prints the gdb command: indented, on a line of its own. */
    private static final Pattern PRINTED_COMMAND = Pattern.compile("^    (gdb .*)$", Pattern.MULTILINE);
    /** demo.c exits with 0: the launcher's status is (0 << 1) | 1, gdb shows it in octal. */
    private static final int GUEST_EXIT_STATUS = 1;
    /** The guest was ended for the debugger (gdb's kill, or the demo after gdb quit): 128 + SIGKILL. */
    private static final int KILLED_STATUS = 137;
    /** isqrt's argument for Mercury: 58³ · 365² / 150³. */
    private static final long MERCURY_ISQRT_ARGUMENT = 58L * 58 * 58 * 365 * 365 / (150L * 150 * 150);

    @Test
    void thePrintedGdbCommandDebugsTheDemo() throws Exception {
        requireGdbAndKvm();
        try (LaunchedGuest demo = LaunchedGuest.demo()) {
            demo.closeStdin();
            String target = demo.awaitGdbTarget();
            String command = printedCommand(demo);
            assertTrue(command.contains("'target remote " + target + "'"), "the printed command attaches to " + target + ":\n" + demo);

            GdbBatch.Result gdb = GdbBatch.printed(command)
                    .section("break").commands("break orbit_days", "continue")
                    .section("bt").commands("bt")
                    .section("print").commands("print *p")
                    .section("finish").commands("finish")
                    .section("list").commands("list isqrt", "info source")
                    .section("end").commands("delete", "continue")
                    .run();
            OptionalInt status = demo.awaitExit();
            Session s = new Session(() -> gdb + "\n" + demo);

            s.matches(gdb.section("break"), "^Breakpoint 1 at 0x[0-9a-f]+: file .*demo\\.c, line 35\\.$");
            s.matches(gdb.section("break"), "^Breakpoint 1, orbit_days \\(p=0x[0-9a-f]+ <planets>\\) at .*demo\\.c:35$");
            s.matches(gdb.section("break"), "^35\\t    unsigned long a = p->distance_mkm;$");
            String bt = gdb.section("bt");
            s.matches(bt, "^#0  orbit_days \\(p=0x[0-9a-f]+ <planets>\\) at .*demo\\.c:35$");
            s.matches(bt, "^#1  0x[0-9a-f]+ in demo_main \\(vcpu=0, vcpus=1, ram=134217728\\) at .*demo\\.c:59$");
            // The outermost frame is the guest's entry; the backtrace ends there without an error.
            s.matches(bt, "^#2  0x[0-9a-f]+ in _start \\(\\)$");
            assertFalse(bt.contains("Backtrace stopped"), "the backtrace ends cleanly at _start:\n" + bt);
            s.matches(gdb.section("print"), "^\\$1 = \\{name = 0x[0-9a-f]+ \"Mercury\", distance_mkm = 58, moons = 0\\}$");
            s.matches(gdb.section("finish"), "^Run till exit from #0  orbit_days \\(p=0x[0-9a-f]+ <planets>\\) at .*demo\\.c:35$");
            s.matches(gdb.section("finish"), "^Value returned is \\$\\d+ = 87$");

            // The source gdb lists is the shipped copy, found through the printed `directory`.
            Path shipped = Path.of(directoryOf(command), "demo.c");
            assertEquals(kvmgdbHome().resolve("share/guests/demo.c").toRealPath(), shipped.toRealPath(),
                    "the printed directory is the distribution's share/guests");
            String list = gdb.section("list");
            s.matches(list, "^Located in .*$");
            assertEquals(shipped.toRealPath(), Path.of(gdb.find("list", "^Located in (.*)$")).toRealPath(),
                    "gdb lists the shipped demo.c:\n" + list);
            List<String> source = Files.readAllLines(shipped, StandardCharsets.UTF_8);
            int isqrt = source.indexOf("unsigned long isqrt(unsigned long n) {") + 1;
            assertTrue(isqrt > 0, "the shipped demo.c defines isqrt:\n" + source);
            for (int line = isqrt; line <= isqrt + 4; line++) {
                s.contains(list, line + "\t" + source.get(line - 1) + "\n");
            }

            s.contains(gdb.section("end"), "Continuing.");
            s.contains(gdb.section("end"), "[Inferior 1 (Remote target) exited with code 01]");
            assertTrue(demo.stdout().contains("Mars: 684 days, 2 moons\n"), "the guest's serial output:\n" + demo);
            assertTrue(demo.stdout().endsWith("done\n"), "the guest's last words on COM1:\n" + demo);
            assertExitStatus(GUEST_EXIT_STATUS, status, demo);
        }
    }

    @Test
    void anotherPortWhen1234IsTaken() throws Exception {
        requireGdbAndKvm();
        try (ServerSocket taken = take(PREFERRED_PORT); LaunchedGuest demo = LaunchedGuest.demo()) {
            demo.closeStdin();
            String target = demo.awaitGdbTarget();
            int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
            assertNotEquals(PREFERRED_PORT, port, "1234 is taken, so the demo listens elsewhere:\n" + demo);
            String command = printedCommand(demo);
            assertTrue(command.contains("'target remote 127.0.0.1:" + port + "'"),
                    "the printed command names port " + port + ":\n" + demo);

            GdbBatch.Result gdb = GdbBatch.printed(command).section("run").commands("continue").run();
            OptionalInt status = demo.awaitExit();
            Session s = new Session(() -> gdb + "\n" + demo);
            s.contains(gdb.output(), "Remote debugging using 127.0.0.1:" + port);
            s.contains(gdb.section("run"), "[Inferior 1 (Remote target) exited with code 01]");
            assertTrue(demo.stdout().endsWith("done\n"), "the guest ran to its end:\n" + demo);
            assertExitStatus(GUEST_EXIT_STATUS, status, demo);
        }
    }

    /** gdb on the demo's terminal; at end of input gdb quits, which detaches, and the guest runs to its end. */
    @Test
    void attachedGdbDebugsAndQuitLetsTheGuestFinish() throws Exception {
        requireGdbAndKvm();
        try (LaunchedGuest demo = LaunchedGuest.demo("--attach")) {
            Session s = new Session(demo::toString);
            demo.send("break isqrt", "continue", "bt");
            demo.awaitStdout(gdbLine("#3  0x[0-9a-f]+ in _start \\(\\)"));
            List<ProcessHandle> children = gdbAndOthers(demo);
            demo.closeStdin();
            OptionalInt status = demo.awaitExit();

            String out = demo.stdout();
            s.contains(demo.stderr(), "kvmgdb demo: starting gdb attached to the demo guest");
            s.matches(out, gdbLine("Remote debugging using 127\\.0\\.0\\.1:\\d+"));
            s.matches(out, gdbLine("Breakpoint 1 at 0x[0-9a-f]+: file .*demo\\.c, line 25\\."));
            s.matches(out, gdbLine("Breakpoint 1, isqrt \\(n=" + MERCURY_ISQRT_ARGUMENT + "\\) at .*demo\\.c:25"));
            s.matches(out, gdbLine("#0  isqrt \\(n=" + MERCURY_ISQRT_ARGUMENT + "\\) at .*demo\\.c:25"));
            s.matches(out, gdbLine("#1  0x[0-9a-f]+ in orbit_days \\(p=0x[0-9a-f]+ <planets>\\) at .*demo\\.c:37"));
            // gdb wraps at 80 columns when its output is not a terminal.
            s.matches(out, gdbLine("#2  0x[0-9a-f]+ in demo_main \\(vcpu=0, vcpus=1, ram=134217728\\)\\s+at .*demo\\.c:59"));
            // quit with a live remote target: the stub says it attached (qAttached), so gdb detaches.
            s.contains(out, "Inferior 1 [Remote target] will be detached.");
            s.contains(out, "[Inferior 1 (Remote target) detached]");
            s.contains(out, "Mars: 684 days, 2 moons\n");
            s.contains(out, "done\n");
            assertExitStatus(GUEST_EXIT_STATUS, status, demo);
            assertAllEnded(children, demo);
        }
    }

    /**
     * Ctrl-C reaches gdb and the launcher alike (one terminal, one process group): gdb stops the
     * guest, the launcher lives on. After gdb quits, the demo gives a guest that does not end by
     * itself its grace period and then ends it. (A build started where SIGINT is ignored, such as
     * in the background of a shell without job control, hands that on to the launcher, and then the
     * launcher's part of this proves nothing; gdb's still does.)
     */
    @Test
    void ctrlCStopsTheGuestNotTheDemoAndQuitEndsASpinningGuest() throws Exception {
        requireGdbAndKvm();
        try (LaunchedGuest demo = LaunchedGuest.demo("--attach")) {
            Session s = new Session(demo::toString);
            demo.send("break isqrt", "continue");
            demo.awaitStdout(gdbLine("Breakpoint 1, isqrt \\(.*"));
            // A guest that never ends: `jmp .` (EB FE) where it stopped.
            demo.send("delete", "set var *(unsigned short *) $pc = 0xfeeb", "x/i $pc", "set debug remote 1", "continue");
            demo.awaitStderr(GdbBatch.RESUME_PACKET);
            List<ProcessHandle> children = gdbAndOthers(demo);
            ProcessHandle gdb = children.get(0);
            ctrlC(demo.handle(), gdb);
            demo.awaitStdout("^Program received signal SIGINT, Interrupt\\.$");
            // Reading a guest variable needs the stub: the launcher survived the Ctrl-C.
            demo.send("set debug remote 0", "print n");
            demo.awaitStdout(gdbLine("\\$1 = " + MERCURY_ISQRT_ARGUMENT));
            demo.closeStdin();
            OptionalInt status = demo.awaitExit();

            String out = demo.stdout();
            s.matches(out, gdbLine("=> 0x[0-9a-f]+ <isqrt\\+\\d+>:\\tjmp    0x[0-9a-f]+ <isqrt\\+\\d+>"));
            s.matches(out, "^(0x[0-9a-f]+ in )?isqrt \\(n=" + MERCURY_ISQRT_ARGUMENT + "\\) at .*demo\\.c:25$");
            s.contains(out, "[Inferior 1 (Remote target) detached]");
            s.contains(demo.stderr(), "kvmgdb demo: gdb has quit and the guest has not ended by itself; ending it");
            assertFalse(out.contains("Mercury:"), "the guest never got past isqrt:\n" + demo);
            assertExitStatus(KILLED_STATUS, status, demo);
            assertAllEnded(children, demo);
        }
    }

    /** gdb's kill ends the guest, yet the demo waits for the user to quit gdb rather than leave it on the terminal. */
    @Test
    void afterKillTheDemoWaitsForGdbToQuit() throws Exception {
        requireGdbAndKvm();
        try (LaunchedGuest demo = LaunchedGuest.demo("--attach")) {
            Session s = new Session(demo::toString);
            demo.send("break isqrt", "continue", "kill");
            demo.awaitStdout("\\[Inferior 1 \\(Remote target\\) killed\\]$");
            List<ProcessHandle> children = gdbAndOthers(demo);
            ProcessHandle gdb = children.get(0);
            // The guest is gone; gdb still answers from the ELF, its parent still the launcher.
            demo.send("print planets[3]");
            demo.awaitStdout(gdbLine("\\$1 = \\{name = 0x[0-9a-f]+ \"Mars\", distance_mkm = 228, moons = 2\\}"));
            // A launcher that did not wait for gdb would end right after the stub hangs up, with gdb
            // left on the terminal; this gives it a second to do so (a chance to fail, not a speed check).
            assertThrows(TimeoutException.class, () -> demo.handle().onExit().get(1, TimeUnit.SECONDS),
                    () -> "the launcher ended while gdb was still running:\n" + demo);
            assertEquals(demo.handle().pid(), gdb.parent().map(ProcessHandle::pid).orElse(-1L), "gdb is the launcher's child");
            demo.closeStdin();
            OptionalInt status = demo.awaitExit();

            s.matches(demo.stdout(), gdbLine("Breakpoint 1, isqrt \\(n=" + MERCURY_ISQRT_ARGUMENT + "\\) at .*demo\\.c:25"));
            assertFalse(demo.stdout().contains("Mercury:"), "the guest was killed in its first isqrt:\n" + demo);
            assertExitStatus(KILLED_STATUS, status, demo);
            assertAllEnded(children, demo);
        }
    }

    // ---- helpers ----

    private static void requireGdbAndKvm() {
        GdbBatch.require("gdb", "the demo is debugged with it");
        LaunchedGuest.requireKvm();
    }

    private static Path kvmgdbHome() {
        return LaunchedGuest.launcher().getParent().getParent();
    }

    private static String printedCommand(LaunchedGuest demo) throws InterruptedException {
        return demo.awaitStderr(PRINTED_COMMAND.pattern()).group(1);
    }

    /** The argument of the printed {@code -ex 'directory DIR'}. */
    private static String directoryOf(String command) {
        Matcher m = Pattern.compile("-ex 'directory ([^']+)'").matcher(command);
        assertTrue(m.find(), "the printed command names the source directory: " + command);
        return m.group(1);
    }

    /** A line gdb prints, possibly after its {@code (gdb) } prompts (a prompt is not followed by a newline). */
    private static String gdbLine(String regex) {
        return "^(?:\\(gdb\\) )*" + regex + "$";
    }

    /**
     * The launcher's child processes, gdb first (it must be among them); taken while gdb runs, to
     * check afterwards that none outlived the demo.
     */
    private static List<ProcessHandle> gdbAndOthers(LaunchedGuest demo) {
        List<ProcessHandle> children = demo.handle().descendants()
                .sorted((a, b) -> Boolean.compare(!isGdb(a), !isGdb(b)))
                .toList();
        assertTrue(!children.isEmpty() && isGdb(children.get(0)), "the demo started gdb: " + children + "\n" + demo);
        return children;
    }

    private static boolean isGdb(ProcessHandle process) {
        return process.info().command().map(c -> Path.of(c).getFileName().toString().equals("gdb")).orElse(false);
    }

    /** Ctrl-C on the demo's terminal: SIGINT to every process in its foreground group, the launcher and gdb. */
    private static void ctrlC(ProcessHandle launcher, ProcessHandle gdb) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(launcher.pid()), Long.toString(gdb.pid()))
                .redirectErrorStream(true).start();
        String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, kill.waitFor(), "kill -INT failed: " + said);
    }

    /**
     * Holds {@code port} on the loopback address; null when another process already holds it, which
     * takes it from the demo just as well.
     */
    private static ServerSocket take(int port) throws IOException {
        try {
            return new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
        } catch (BindException e) {
            return null;
        }
    }

    private static void assertExitStatus(int expected, OptionalInt status, LaunchedGuest demo) {
        assertEquals(expected, status.orElse(-1), "the launcher's exit status"
                + (status.isEmpty() ? " (it was still running)" : "") + ":\n" + demo);
    }

    private static void assertAllEnded(List<ProcessHandle> children, LaunchedGuest demo) {
        for (ProcessHandle child : children) {
            assertFalse(child.isAlive(), "process " + child.pid() + " " + child.info() + " outlived the demo:\n" + demo);
        }
    }

    /** Assertions that show the whole session (as it is when they fail). */
    private record Session(Supplier<String> transcript) {
        void contains(String text, String expected) {
            assertTrue(text.contains(expected), () -> "'" + expected + "' not in:\n" + text + "\n=== the whole session:\n" + transcript.get());
        }

        void matches(String text, String regex) {
            assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                    () -> "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + transcript.get());
        }
    }
}

package org.kvmgdb.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tinylog.Level;

/**
 * The launcher's command lines parsed in this JVM (the module's class path holds the real tcp and
 * unix transports), with a runner that records the configuration instead of starting a VM.
 */
class LauncherTest {
    @TempDir
    Path dir;
    Path guest;

    /** Records what {@code run} and {@code demo} were handed. */
    static final class RecordingRunner implements GuestRunner {
        RunConfiguration run;
        DemoConfiguration demo;

        @Override
        public int runGuest(RunConfiguration configuration) {
            run = configuration;
            return 42;
        }

        @Override
        public int runDemo(DemoConfiguration configuration) {
            demo = configuration;
            return 43;
        }
    }

    record Outcome(int status, String out, String err, RecordingRunner runner) {
    }

    @BeforeEach
    void guestFile() throws IOException {
        guest = Files.write(dir.resolve("guest.elf"), new byte[] {0x7f, 'E', 'L', 'F'});
    }

    static Outcome kvmgdb(String... args) {
        RecordingRunner runner = new RecordingRunner();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(args, runner, new PrintWriter(out), new PrintWriter(err));
        return new Outcome(status, out.toString(), err.toString(), runner);
    }

    private Outcome usageError(String... args) {
        Outcome o = kvmgdb(args);
        assertEquals(ExitStatus.USAGE, o.status(), o.err());
        assertNull(o.runner().run, "nothing may run after a usage error");
        assertEquals(1, o.err().lines().count(), "a usage error is one line: " + o.err());
        assertTrue(o.err().startsWith("kvmgdb: "), o.err());
        return o;
    }

    @Test
    void runWithDefaults() {
        Outcome o = kvmgdb("run", guest.toString());
        assertEquals(42, o.status(), "run returns what the runner returns: " + o.err());
        RunConfiguration c = o.runner().run;
        assertEquals(guest, c.guest());
        assertTrue(c.gdb().isEmpty(), "without --gdb the guest simply runs");
        assertFalse(c.waitForDebugger());
        assertEquals(1, c.cpus());
        assertEquals(128L << 20, c.memoryBytes());
        assertEquals(Level.INFO, c.logLevel());
        assertFalse(c.logPackets());
        assertFalse(c.allowRemote());
    }

    @Test
    void runWithEveryOption() {
        Path socket = dir.resolve("gdb.sock");
        Outcome o = kvmgdb("run", "--gdb", "unix:" + socket, "-S", "--cpus", "4", "--memory", "64M",
                "--log-level", "warn", "--log-packets", guest.toString());
        assertEquals(42, o.status(), o.err());
        RunConfiguration c = o.runner().run;
        assertTrue(c.gdb().orElseThrow().describe().contains(socket.toString()), c.gdb().orElseThrow().describe());
        assertTrue(c.waitForDebugger());
        assertEquals(4, c.cpus());
        assertEquals(64L << 20, c.memoryBytes());
        assertEquals(Level.WARN, c.logLevel());
        assertTrue(c.logPackets());
        assertFalse(Files.exists(socket), "parsing --gdb binds nothing");
    }

    @Test
    void smallSIsTcpPort1234OnLoopback() {
        Outcome o = kvmgdb("run", "-s", "--wait", guest.toString());
        assertEquals(42, o.status(), o.err());
        String address = o.runner().run.gdb().orElseThrow().describe();
        assertTrue(address.startsWith("tcp:") && address.endsWith(":1234") && address.contains("127.0.0.1"), address);
        assertTrue(o.runner().run.waitForDebugger());
    }

    @Test
    void aNonLoopbackAddressNeedsAllowRemote() {
        Outcome refused = usageError("run", "--gdb", "tcp:0.0.0.0:1234", guest.toString());
        assertTrue(refused.err().contains("--gdb-allow-remote"), refused.err());

        Outcome allowed = kvmgdb("run", "--gdb", "tcp:0.0.0.0:1234", "--gdb-allow-remote", guest.toString());
        assertEquals(42, allowed.status(), allowed.err());
        assertTrue(allowed.runner().run.allowRemote());
        assertTrue(allowed.runner().run.gdb().orElseThrow().describe().contains("0.0.0.0"));
    }

    @Test
    void anUnknownSchemeNamesTheAcceptedForms() {
        Outcome o = usageError("run", "--gdb", "udp:1234", guest.toString());
        assertTrue(o.err().contains("unknown transport 'udp'"), o.err());
        assertTrue(o.err().contains("tcp:") && o.err().contains("unix:"), o.err());
    }

    @Test
    void malformedGdbValues() {
        for (String value : new String[] {"tcp:localhost", "tcp::notaport", "tcp::99999", "tcp", "unix:", "1234"}) {
            Outcome o = usageError("run", "--gdb", value, guest.toString());
            assertTrue(o.err().contains("--gdb"), value + ": " + o.err());
        }
    }

    @Test
    void stdioIsAcceptedAndTakesNoAddress() {
        Outcome o = kvmgdb("run", "--gdb", "stdio", "-S", guest.toString());
        assertEquals(42, o.status(), o.err());
        assertEquals("stdio", o.runner().run.gdb().orElseThrow().describe());
        assertTrue(KvmGuestRunner.onStdio(o.runner().run.gdb()), "the runner sends serial output to stderr");
        assertFalse(KvmGuestRunner.onStdio(kvmgdb("run", "-s", guest.toString()).runner().run.gdb()));

        Outcome extra = usageError("run", "--gdb", "stdio:/dev/tty", guest.toString());
        assertTrue(extra.err().contains("stdio takes no address"), extra.err());
    }

    @Test
    void badCpusMemoryLogLevelAndCombinations() {
        usageError("run", "--cpus", "0", guest.toString());
        usageError("run", "--cpus", "two", guest.toString());
        usageError("run", "--memory", "12Q", guest.toString());
        usageError("run", "--memory", "100K", guest.toString());
        usageError("run", "--log-level", "loud", guest.toString());
        usageError("run", "-s", "--gdb", "tcp::1", guest.toString());
        Outcome wait = usageError("run", "-S", guest.toString());
        assertTrue(wait.err().contains("--gdb"), wait.err());
        usageError("run", "--no-such-option", guest.toString());
        usageError("run", guest.toString(), "extra-argument");
    }

    @Test
    void aMissingGuestIsOneLine() {
        Outcome o = usageError("run", dir.resolve("missing.elf").toString());
        assertTrue(o.err().contains("GUEST file not found: " + dir.resolve("missing.elf")), o.err());
        Outcome directory = usageError("run", dir.toString());
        assertTrue(directory.err().contains("not a regular file"), directory.err());
        Outcome none = usageError("run");
        assertTrue(none.err().contains("GUEST.elf"), none.err());
    }

    @Test
    void demoPassesAttach() {
        Outcome o = kvmgdb("demo", "--attach");
        assertEquals(43, o.status(), o.err());
        assertTrue(o.runner().demo.attach());
        assertFalse(kvmgdb("demo").runner().demo.attach());
    }

    @Test
    void helpNamesEveryCommandAndShowsTheOneAsked() {
        Outcome all = kvmgdb("help");
        assertEquals(0, all.status(), all.err());
        for (String command : new String[] {"run", "demo", "plugins", "help"}) {
            assertTrue(all.out().lines().anyMatch(l -> l.strip().startsWith(command + " ")),
                    "'help' lists " + command + ": " + all.out());
        }
        Outcome run = kvmgdb("help", "run");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("--gdb"), "'help run' shows run's options: " + run.out() + run.err());
    }

    @Test
    void noCommandIsAUsageError() {
        Outcome o = kvmgdb();
        assertEquals(ExitStatus.USAGE, o.status());
        assertTrue(o.err().contains("missing command"), o.err());
    }

    @Test
    void theKvmRunnerRefusesAGuestThatIsNotElfBeforeOpeningKvm() throws Exception {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.nio.file.Files.writeString(guest, "#!/bin/sh\necho not a guest\n");
        KvmGuestRunner runner = new KvmGuestRunner(new java.io.PrintStream(err, true), new java.io.ByteArrayOutputStream());
        assertEquals(ExitStatus.USAGE, runner.runGuest(kvmgdb("run", guest.toString()).runner().run));
        assertTrue(err.toString().contains("not an ELF file"), err.toString());
    }
}

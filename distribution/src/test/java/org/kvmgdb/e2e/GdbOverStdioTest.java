package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code --gdb stdio}: gdb starts the launcher itself ({@code target remote | bin/kvmgdb run --gdb
 * stdio -S GUEST}) and speaks the protocol on the launcher's stdin and stdout. The guest's serial
 * output and every log line go to stderr, which gdb shows, and never into the packets.
 */
class GdbOverStdioTest {
    /** e2e.c's {@code exit_code} as built (3), as the exit port turns it into a status. */
    private static final int GUEST_EXIT_STATUS = 3 << 1 | 1;
    /** A hang guard, not a timing assertion. */
    private static final long EXIT_GUARD_MINUTES = 2;

    @Test
    void realGdbStartsTheStubThroughAPipeStopsAtABreakpointAndSeesTheExit() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        // The default log level: the launcher's own lines come at attach and at the end, not in between
        // (gdb prints its child's stderr as it comes, between its own lines).
        debugThroughAPipe(batch, elf, LaunchedGuest.launcher() + " run --gdb stdio -S " + elf);
    }

    @Test
    void aStubSlowerToStartThanGdbsRemoteTimeoutIsStillInStepWithGdb() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        // gdb sends qSupported again each remotetimeout (2 s) without an ack: a stub that starts later
        // (here, 3 s later; a loaded machine does the same) finds the copies waiting and must answer one.
        debugThroughAPipe(batch, elf, "sh -c 'sleep 3; exec " + LaunchedGuest.launcher() + " run --gdb stdio -S " + elf + "'");
    }

    private static void debugThroughAPipe(GdbBatch batch, Path elf, String stub) throws Exception {
        GdbBatch.Result gdb = batch.file(elf)
                .section("attach").commands("target remote | " + stub)
                .section("break").commands("break distance2", "continue", "bt", "print *p")
                .section("exit").commands("delete", "continue")
                .run();

        String attach = gdb.section("attach");
        assertTrue(attach.contains("Remote debugging using | " + stub), "gdb started the stub:\n" + gdb);
        assertTrue(attach.contains("kvmgdb: serving gdb on stdin/stdout"), "the launcher's line reached gdb through stderr:\n" + gdb);

        String stop = gdb.section("break");
        assertMatches(stop, "^Breakpoint 1, distance2 \\(p=0x[0-9a-f]+ <origin>\\) at .*e2e\\.c:\\d+$", gdb);
        assertMatches(stop, "^#1  0x[0-9a-f]+ in e2e_main \\(vcpu=0, vcpus=1, ram=134217728\\) at .*e2e\\.c:\\d+$", gdb);
        assertMatches(stop, "^\\$1 = \\{x = 3, y = 4\\}$", gdb);

        String exit = gdb.section("exit");
        assertTrue(withoutLogRecords(exit).contains("e2e guest done"), "the guest's serial output reached gdb through stderr:\n" + gdb);
        assertTrue(exit.contains("[Inferior 1 (Remote target) exited with code " + String.format("%02o", GUEST_EXIT_STATUS) + "]"),
                "gdb reports the guest's exit status:\n" + gdb);
        assertTrue(!gdb.output().contains("Ignoring packet error") && !gdb.output().contains("Remote connection closed"),
                "nothing but packets on the protocol stream:\n" + gdb);
        assertEquals(0, gdb.status(), gdb.toString());
    }

    @Test
    void stdoutCarriesOnlyPacketsAndClosingStdinDetaches() throws Exception {
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        long add = symbol(elf, "add");
        List<String> command = List.of(LaunchedGuest.launcher().toString(), "run", "--gdb", "stdio", "-S",
                "--log-level", "debug", "--log-packets", elf.toString());
        Process launcher = new ProcessBuilder(command).start();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Thread errReader = drain(launcher.getErrorStream(), stderr);
        try {
            OutputStream toStub = launcher.getOutputStream();
            InputStream fromStub = launcher.getInputStream();
            String why = request(toStub, fromStub, stdout, "?");
            assertTrue(why.startsWith("T05") || why.startsWith("S05"), "stopped before the first instruction (-S): " + why);
            // A breakpoint the guest passes right away: if detaching left its int3 in place, the guest
            // would not reach its exit port with its own status.
            assertEquals("OK", request(toStub, fromStub, stdout, String.format("Z0,%x,1", add)));
            // gdb goes away without a word: end of stdin.
            toStub.close();
            Thread outReader = drain(fromStub, stdout);
            if (!launcher.waitFor(EXIT_GUARD_MINUTES, TimeUnit.MINUTES)) {
                fail("the launcher did not end after stdin closed:\n" + text(stderr));
            }
            outReader.join();
            errReader.join();
            String err = text(stderr);
            assertEquals(GUEST_EXIT_STATUS, launcher.exitValue(), "the guest ran on to its own exit:\n" + err);
            assertTrue(withoutLogRecords(err).contains("e2e guest done"), "serial output on stderr:\n" + err);
            assertTrue(err.contains("DebugSession: <- $Z0,"), "packet log lines on stderr:\n" + err);
            assertTrue(err.contains("ended: DISCONNECTED"), "the session ended as the connection closed:\n" + err);
            assertOnlyPackets(stdout.toByteArray());
        } finally {
            launcher.destroyForcibly();
        }
    }

    /**
     * Text with tinylog's records ({@code HH:mm:ss.SSS LEVEL [thread] class: message}) taken out: the
     * guest writes COM1 a byte at a time, unbuffered, so a log line may land inside one of its lines.
     */
    private static String withoutLogRecords(String text) {
        return text.replaceAll("\\d{2}:\\d{2}:\\d{2}\\.\\d{3} (TRACE|DEBUG|INFO |WARN |ERROR) \\[[^\\]\n]*\\] [^\n]*\n", "");
    }

    /** One packet and its reply, acks included; every byte read is kept for {@link #assertOnlyPackets}. */
    private static String request(OutputStream out, InputStream in, ByteArrayOutputStream seen, String payload) throws IOException {
        out.write(frame(payload).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        int b;
        while ((b = in.read()) == '+') {
            seen.write(b);
        }
        if (b != '$') {
            fail("expected a packet, got byte " + b + " after " + text(seen));
        }
        StringBuilder reply = new StringBuilder();
        seen.write(b);
        while ((b = in.read()) != '#') {
            if (b < 0) {
                fail("stdout ended inside a packet: " + text(seen));
            }
            seen.write(b);
            reply.append((char) b);
        }
        seen.write(b);
        seen.write(in.read());
        seen.write(in.read());
        out.write('+');
        out.flush();
        return reply.toString();
    }

    private static String frame(String payload) {
        int sum = 0;
        for (byte b : payload.getBytes(StandardCharsets.US_ASCII)) {
            sum += b & 0xff;
        }
        return "$" + payload + "#" + String.format("%02x", sum & 0xff);
    }

    /** Every byte is an ack or part of a well-framed packet with a correct checksum. */
    private static void assertOnlyPackets(byte[] bytes) {
        String all = new String(bytes, StandardCharsets.ISO_8859_1);
        Matcher m = Pattern.compile("\\G(?:[+-]|\\$([^$#]*)#([0-9a-f]{2}))").matcher(all);
        int end = 0;
        int packets = 0;
        while (m.find()) {
            end = m.end();
            if (m.group(1) != null) {
                packets++;
                assertEquals(frame(m.group(1)), m.group(), "checksum of a packet on stdout");
            }
        }
        assertEquals(all.length(), end, "stdout holds something that is not a packet at byte " + end + ": " + all);
        assertTrue(packets >= 2, "the replies were on stdout: " + all);
    }

    /** A symbol's address from the ELF, as {@code nm} prints it. */
    private static long symbol(Path elf, String name) throws IOException, InterruptedException {
        Path nm = GdbBatch.require("nm", "reading a symbol address of the e2e guest");
        Process p = new ProcessBuilder(nm.toString(), elf.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Matcher m = Pattern.compile("^([0-9a-f]+) T " + name + "$", Pattern.MULTILINE).matcher(out);
        assertTrue(m.find(), name + " not in nm's output:\n" + out);
        return Long.parseUnsignedLong(m.group(1), 16);
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream into) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    synchronized (into) {
                        into.write(buffer, 0, n);
                    }
                }
            } catch (IOException e) {
                synchronized (into) {
                    into.writeBytes(("[reading failed: " + e + "]").getBytes(StandardCharsets.UTF_8));
                }
            }
        }, "drain");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static String text(ByteArrayOutputStream bytes) {
        synchronized (bytes) {
            return bytes.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static void assertMatches(String text, String regex, GdbBatch.Result gdb) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + gdb);
    }
}

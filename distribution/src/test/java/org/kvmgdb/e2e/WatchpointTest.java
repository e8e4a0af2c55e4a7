package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * One gdb session on the watchpoint guest (src/guests/watch.c) under {@code bin/kvmgdb run -S}:
 * {@code watch} on a global and on a struct member (gdb shows them as hardware watchpoints with Old
 * and New values at the line after the write), {@code rwatch}/{@code awatch}, breakpoints whose
 * {@code int3} gdb never sees in memory, and a removed watchpoint that no longer stops the guest.
 * Line numbers are watch.c's.
 *
 * <p>Where data breakpoints never fire (this project's PVM hosts) the stub emulates write
 * watchpoints by single-stepping and refuses read and access watchpoints; the launcher's log says
 * which kind of host this is ({@code data breakpoints fire} or {@code never fire}), and the
 * {@code rwatch}/{@code awatch} expectations follow it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WatchpointTest {
    /** watch.c's exit value: sum_readings(2) + counter + origin.y = 10 + 3 + 10. */
    private static final int EXIT_VALUE = 23;

    private GdbBatch.Result gdb;
    private OptionalInt launcherStatus;
    private String serial;
    private String launcher;
    private boolean debugRegistersFire;

    @BeforeAll
    void debugTheGuestOnce() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("watch.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            gdb = batch.file(elf)
                    .section("connect").commands("target remote " + guest.awaitGdbTarget())
                    .section("watch counter").commands("watch counter", "continue", "continue")
                    .section("watch origin.y").commands("delete", "watch origin.y", "continue")
                    .section("shadowed breakpoint").commands("delete", "x/1xb sum_readings",
                            "set breakpoint always-inserted on", "set debug remote 1",
                            "break *sum_readings", "x/1xb sum_readings",
                            "set var *(unsigned char *) sum_readings = 0x90", "x/1xb sum_readings",
                            "delete", "x/1xb sum_readings",
                            "set var *(unsigned char *) sum_readings = 0x55",
                            "break *sum_readings", "set var *(unsigned char *) sum_readings = 0x55",
                            "set debug remote 0")
                    .section("breakpoint after writes").commands("continue", "set breakpoint always-inserted off", "delete")
                    .section("rwatch").commands("rwatch readings", "continue", "delete")
                    .section("awatch").commands("awatch readings", "continue", "delete")
                    .section("removed watchpoint").commands("watch total", "delete", "info breakpoints", "continue")
                    .run();
            launcherStatus = guest.awaitExit();
            serial = guest.stdout();
            launcher = guest.toString();
            Matcher probe = Pattern.compile("data breakpoints (fire|never fire) on this host").matcher(guest.stderr());
            assertTrue(probe.find(), "the launcher logs what the data breakpoint probe found:\n" + launcher);
            debugRegistersFire = probe.group(1).equals("fire");
        }
    }

    @Test
    void watchOnAGlobalStopsAfterEachWriteWithOldAndNewValue() {
        String text = section("watch counter");
        assertMatches(text, "^Hardware watchpoint 1: counter$");
        // counter++ in count_to's loop: the stop is after the store, in the loop's i++ (line 18).
        assertMatches(text, "^Hardware watchpoint 1: counter\\n\\nOld value = 0\\nNew value = 1\\n"
                + "count_to \\(n=3\\) at .*watch\\.c:18\\n18\\t    for \\(int i = 0; i < n; i\\+\\+\\) \\{$");
        assertMatches(text, "^Hardware watchpoint 1: counter\\n\\nOld value = 1\\nNew value = 2\\n"
                + "count_to \\(n=3\\) at .*watch\\.c:18$");
    }

    @Test
    void watchOnAStructMember() {
        String text = section("watch origin.y");
        assertMatches(text, "^Hardware watchpoint 2: origin\\.y$");
        // origin.y += dy (line 24); the next instruction belongs to the closing brace.
        assertMatches(text, "^Hardware watchpoint 2: origin\\.y\\n\\nOld value = 4\\nNew value = 10\\n"
                + "move_origin \\(dy=6\\) at .*watch\\.c:25\\n25\\t\\}$");
    }

    /**
     * With {@code always-inserted}, gdb leaves the breakpoint in while it reads and writes memory,
     * and does not hide it itself (a Z0 breakpoint is the stub's to hide): {@code x} shows the
     * original byte, a write under the breakpoint is what {@code x} shows next and what stays when
     * the breakpoint goes, and the breakpoint still stops the guest after being written over.
     */
    @Test
    void memoryNeverShowsTheStubsInt3AndWritesUnderItAreKept() {
        String text = section("shadowed breakpoint");
        String address = gdb.find("shadowed breakpoint", "^Breakpoint 3 at 0x([0-9a-f]+): file .*watch\\.c, line 27\\.$");
        String examine = "^(?:\\[remote\\] .*\\n)*0x" + address + " <sum_readings>:\\t(?:\\[remote\\] .*\\n)*";
        assertMatches(text, "Sending packet: \\$Z0," + address + ",1#..\\n\\[remote\\] Packet received: OK");
        assertEquals(4, count(text, examine + "0x55$") + count(text, examine + "0x90$"), "four x/1xb:\n" + text);
        // Before the breakpoint, and with it in: the original push %rbp, never 0xcc.
        assertEquals(2, count(text, examine + "0x55$"), text);
        assertTrue(!Pattern.compile(examine + "0xcc$", Pattern.MULTILINE).matcher(text).find(), text);
        // Written under the breakpoint, then the breakpoint removed: the written byte both times.
        assertEquals(2, count(text, examine + "0x90$"), text);
        assertMatches(text, "Sending packet: \\$z0," + address + ",1#..\\n\\[remote\\] Packet received: OK");
        // In that order: planted, the original read back, written over, the written byte read back, removed.
        int planted = text.indexOf("$Z0," + address + ",1");
        int original = text.indexOf("Packet received: 55", planted);
        int written = text.indexOf("Packet received: 90", original);
        int removed = text.indexOf("$z0," + address + ",1", written);
        assertTrue(planted >= 0 && original > planted && written > original && removed > written, text);

        String after = section("breakpoint after writes");
        assertMatches(after, "^Breakpoint 4, sum_readings \\(n=.*\\) at .*watch\\.c:27$");
    }

    @Test
    void readAndAccessWatchpointsAsThisHostServesThem() {
        String rwatch = section("rwatch");
        String awatch = section("awatch");
        assertMatches(rwatch, "^Hardware read watchpoint 5: readings$");
        assertMatches(awatch, "^Hardware access \\(read/write\\) watchpoint 6: readings$");
        if (debugRegistersFire) {
            assertMatches(rwatch, "^Hardware read watchpoint 5: readings\\n\\nValue = 5\\n");
            assertMatches(awatch, "^Hardware access \\(read/write\\) watchpoint 6: readings\\n\\nValue = 5\\n");
        } else {
            // Refused by the stub (an error reply to Z3/Z4): gdb says so and does not resume.
            assertMatches(rwatch, "^Could not insert hardware watchpoint 5\\.$");
            assertMatches(awatch, "^Could not insert hardware watchpoint 6\\.$");
            assertTrue(!rwatch.contains("Value ="), rwatch);
        }
    }

    @Test
    void aRemovedWatchpointDoesNotStopTheGuest() {
        String text = section("removed watchpoint");
        assertMatches(text, "^Hardware watchpoint 7: total$");
        assertMatches(text, "^No breakpoints or watchpoints\\.$");
        assertMatches(text, "^\\[Inferior 1 \\(Remote target\\) exited with code 0" + Integer.toOctalString(EXIT_VALUE << 1 | 1) + "\\]$");
        assertTrue(!text.contains("Old value"), text);
        assertTrue(serial.contains("watch guest done\n"), launcher);
        assertEquals(EXIT_VALUE << 1 | 1, launcherStatus.orElse(-1), launcher);
    }

    // ---- helpers ----

    private String section(String name) {
        return gdb.section(name);
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + gdb + "\n=== launcher:\n" + launcher);
    }
}

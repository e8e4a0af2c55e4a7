package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A gdb that vanishes (SIGKILL) while the guest is stopped at its breakpoint: the stub must put the
 * guest back as it was before the debugger touched it — every {@code int3} byte restored, the
 * hardware breakpoint cleared — and let it run on; a second gdb may attach to the running guest
 * later and finds the code exactly as the ELF file has it. One launch of the e2e guest, two gdbs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GdbVanishesTest {
    /** e2e.c's {@code exit_code} as built (3), as the exit port turns it into a status. */
    private static final int GUEST_EXIT_STATUS = 3 << 1 | 1;
    /** e2e.c: the {@code counter++} line inside spin_forever's loop, reached on every turn. */
    private static final int SPIN_LOOP_LINE = 50;

    private GdbBatch.Result fileBytes;
    private String vanished;
    private GdbBatch.Result second;
    private OptionalInt launcherStatus;
    private String serial;
    private String launcher;

    @BeforeAll
    void killGdbAtABreakpointThenAttachAgain() throws Exception {
        GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        // What the code bytes are in the file, read by gdb without any target.
        fileBytes = GdbBatch.gdb().file(elf).section("code").commands("x/16xb add", "x/16xb loop_sum").run();
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            String target = guest.awaitGdbTarget();
            GdbBatch first = GdbBatch.gdb().file(elf)
                    // Without always-inserted, gdb 13 takes its breakpoints out (z0/z1) as soon as the target stops,
                    // and none would be in the guest when it is killed.
                    .section("stop").commands("set breakpoint always-inserted on", "target remote " + target, "set var spin = 1",
                            "break add", "hbreak loop_sum", "continue")
                    // Holds gdb, connected and idle, inside its own process until it is killed.
                    .section("held").commands("python import time; time.sleep(600)");
            try (GdbBatch.Running running = first.start()) {
                running.awaitOutput("^@@@ held$");
                running.kill();
                vanished = running.outputSoFar();
            }
            // The guest ran on past add and loop_sum into spin_forever; a new gdb stops it in the loop.
            second = GdbBatch.gdb().file(elf)
                    .section("attach").commands("target remote " + target)
                    .section("loop").commands("break e2e.c:" + SPIN_LOOP_LINE, "continue", "bt", "info breakpoints")
                    .section("code").commands("delete", "x/16xb add", "x/16xb loop_sum")
                    .section("exit").commands("set var spin = 0", "continue")
                    .run();
            launcherStatus = guest.awaitExit();
            serial = guest.stdout();
            launcher = guest.toString();
        }
    }

    @Test
    void theFirstGdbWasStoppedAtItsBreakpointWhenItVanished() {
        assertTrue(Pattern.compile("^Breakpoint 1, add \\(a=2, b=3\\) at .*e2e\\.c:19$", Pattern.MULTILINE).matcher(vanished).find(),
                "gdb stopped at add before it was killed:\n" + vanished);
    }

    @Test
    void theGuestRanOnPastBothBreakpointsIntoItsLoop() {
        // Had the int3 at add or DR0 at loop_sum stayed, the guest would have failed or stopped there.
        assertMatches(second.section("loop"), "^Breakpoint 1, spin_forever \\(\\) at .*e2e\\.c:" + SPIN_LOOP_LINE + "$");
        assertMatches(second.section("loop"), "^#1  0x[0-9a-f]+ in e2e_main \\(vcpu=0, vcpus=1, ram=134217728\\) at .*e2e\\.c:63$");
    }

    @Test
    void theCodeIsExactlyAsTheFileHasIt() {
        assertEquals(fileBytes.section("code").strip(), second.section("code").strip(),
                "code bytes after the first gdb vanished vs the ELF file:\n" + second);
    }

    @Test
    void aSecondGdbAttachesLaterAndTheGuestEndsWithItsOwnStatus() {
        assertTrue(second.section("attach").contains("Remote debugging using "), second.toString());
        String code = String.format("%02o", GUEST_EXIT_STATUS);
        assertTrue(second.section("exit").contains("[Inferior 1 (Remote target) exited with code " + code + "]"), second.toString());
        assertTrue(serial.contains("e2e guest done\n"), launcher);
        assertEquals(GUEST_EXIT_STATUS, launcherStatus.orElse(-1), launcher);
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + second);
    }
}

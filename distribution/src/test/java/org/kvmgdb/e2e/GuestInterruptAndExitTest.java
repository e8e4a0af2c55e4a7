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
 * The e2e guest under {@code bin/kvmgdb run -S}, made to spin ({@code set var spin = 1}), stopped
 * with Ctrl-C (SIGINT to gdb, which sends 0x03 to the stub), then let go to its end while gdb is
 * still attached: gdb reports the exit code. One launch, one gdb session.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestInterruptAndExitTest {
    /** e2e.c's {@code exit_code} as the guest was built (3), as the exit port turns it into a status. */
    private static final int GUEST_EXIT_STATUS = 3 << 1 | 1;
    /** {@code counter = a + f + d + s} before spin_forever: add(2, 3) + 5! + (3² + 4²) + (0 + ... + 9). */
    private static final long COUNTER_BEFORE_SPINNING = 5 + 120 + 25 + 45;

    private GdbBatch.Result gdb;
    private OptionalInt launcherStatus;
    private String serial;
    private String launcher;

    @BeforeAll
    void spinInterruptAndExit() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            String target = guest.awaitGdbTarget();
            batch.file(elf)
                    .section("spin").commands("target remote " + target, "set var spin = 1",
                            // Run into the loop first, so that Ctrl-C finds the guest spinning in it.
                            "break spin_forever", "continue", "delete")
                    .section("ctrl-c").commands(GdbBatch.continueAndLogResume())
                    .section("interrupted").commands("bt", "print counter", "print spin")
                    .section("exit").commands("set var spin = 0", "continue");
            try (GdbBatch.Running running = batch.start()) {
                running.awaitResume();
                running.interrupt();
                gdb = running.await();
            }
            launcherStatus = guest.awaitExit();
            serial = guest.stdout();
            launcher = guest.toString();
        }
    }

    @Test
    void ctrlCStopsTheSpinningGuestInItsLoop() {
        assertMatches(section("spin"), "^Breakpoint 1, spin_forever \\(\\) at .*e2e\\.c:49$");
        String stop = section("ctrl-c");
        assertTrue(stop.contains("Program received signal SIGINT, Interrupt."), "gdb shows the SIGINT stop:\n" + gdb);
        assertMatches(stop, "spin_forever \\(\\) at .*e2e\\.c:(49|50)$");
        String interrupted = section("interrupted");
        assertMatches(interrupted, "^#0  (0x[0-9a-f]+ in )?spin_forever \\(\\) at .*e2e\\.c:(49|50)$");
        assertMatches(interrupted, "^#1  0x[0-9a-f]+ in e2e_main \\(vcpu=0, vcpus=1, ram=134217728\\) at .*e2e\\.c:63$");
        long counter = Long.parseLong(gdb.find("interrupted", "^\\$\\d+ = (\\d+)$"));
        assertTrue(counter >= COUNTER_BEFORE_SPINNING, "counter " + counter + " < " + COUNTER_BEFORE_SPINNING + ":\n" + gdb);
        assertMatches(interrupted, "^\\$\\d+ = 1$");
    }

    @Test
    void gdbReportsTheExitCodeOfAGuestThatExitsWhileAttached() {
        // DESIGN.md: an attached debugger sees W with the process exit status, (v << 1) | 1 as QEMU's
        // isa-debug-exit gives it; gdb prints it in octal.
        String code = String.format("%02o", GUEST_EXIT_STATUS);
        assertTrue(section("exit").contains("[Inferior 1 (Remote target) exited with code " + code + "]"),
                "gdb shows the guest's exit:\n" + gdb);
        assertTrue(serial.contains("e2e guest done\n"), "the guest's last words on COM1:\n" + launcher);
        assertEquals(GUEST_EXIT_STATUS, launcherStatus.orElse(-1),
                "the launcher exits with the guest's exit-port value v as (v << 1) | 1"
                        + (launcherStatus.isEmpty() ? " (it was still running)" : "") + ":\n" + launcher);
    }

    private String section(String name) {
        return gdb.section(name);
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + gdb);
    }
}

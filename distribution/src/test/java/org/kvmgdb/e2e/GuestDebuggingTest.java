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
 * One gdb session on the e2e guest (src/guests/e2e.c) under {@code bin/kvmgdb run -S}, as a user
 * would debug it: breakpoints of every kind, stepping, printing and changing variables, examining
 * memory, and a detach after which the guest finishes on its own. The guest is launched once and gdb
 * runs once ({@link #debugTheGuestOnce()}); each test checks what one part of the session printed.
 * Line numbers are e2e.c's (it asks to be kept stable).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestDebuggingTest {
    /** e2e.c's {@code exit_code}, set by gdb before the detach: the launcher exits with (5 << 1) | 1. */
    private static final int EXIT_CODE_AFTER_DETACH = 5;

    private Path elf;
    private String gdbTarget;
    private GdbBatch.Result gdb;
    private OptionalInt launcherStatus;
    private String serial;
    private String launcher;

    @BeforeAll
    void debugTheGuestOnce() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        elf = LaunchedGuest.guest("e2e.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            gdbTarget = guest.awaitGdbTarget();
            gdb = batch.file(elf)
                    .section("connect").commands("target remote " + gdbTarget, "info registers rip rdi rsi rdx rsp")
                    .section("break").commands("break add", "continue")
                    .section("arguments").commands("print a", "print b", "info args")
                    .section("next").commands("next")
                    .section("locals").commands("print sum", "info locals")
                    .section("finish add").commands("finish")
                    .section("conditional break").commands("delete", "break factorial if n == 3", "continue")
                    .section("backtrace").commands("bt")
                    .section("finish factorial").commands("finish")
                    .section("globals").commands("delete", "print origin", "print exit_code", "print &origin")
                    .section("set var").commands("set var exit_code = 42", "print exit_code", "set var origin.y = 10",
                            "print origin")
                    .section("examine").commands("x/2dg &origin", "x/4xb &exit_code")
                    .section("tbreak").commands("tbreak distance2", "continue", "info breakpoints")
                    .section("struct argument").commands("print *p", "print p->y")
                    .section("step").commands("next", "next", "step", "bt")
                    .section("finish square").commands("finish")
                    .section("hbreak").commands("hbreak loop_sum", "continue")
                    .section("stepi").commands("x/2i $pc", "stepi", "print $pc")
                    .section("until").commands("until 45", "print total")
                    .section("detach").commands("delete", "set var exit_code = " + EXIT_CODE_AFTER_DETACH, "detach")
                    .run();
            launcherStatus = guest.awaitExit();
            serial = guest.stdout();
            launcher = guest.toString();
        }
    }

    @Test
    void gdbConnectsToAGuestStoppedBeforeItsFirstInstruction() {
        String connect = section("connect");
        assertContains(connect, "Remote debugging using " + gdbTarget);
        // -S: stopped at the ELF entry, with the registers of the guest ABI (vCPU 0 of 1, 128 MiB).
        assertContains(connect, "0x0000000000100000 in _start ()");
        GdbOverTransportContract.assertRegister(connect, "rip", "0x100000", "0x100000 <_start>");
        GdbOverTransportContract.assertRegister(connect, "rdi", "0x0", "0");
        GdbOverTransportContract.assertRegister(connect, "rsi", "0x1", "1");
        GdbOverTransportContract.assertRegister(connect, "rdx", "0x8000000", "134217728");
        GdbOverTransportContract.assertRegister(connect, "rsp", "0x8000000", "0x8000000");
    }

    @Test
    void breakAtAFunctionAndContinue() {
        String text = section("break");
        assertMatches(text, "^Breakpoint 1 at 0x[0-9a-f]+: file .*e2e\\.c, line 19\\.$");
        assertContains(text, "Continuing.");
        assertMatches(text, "^Breakpoint 1, add \\(a=2, b=3\\) at .*e2e\\.c:19$");
        assertMatches(text, "^19\\t    long sum = a \\+ b;$");
    }

    @Test
    void printArgumentsAndLocals() {
        assertMatches(section("arguments"), "^\\$1 = 2$");
        assertMatches(section("arguments"), "^\\$2 = 3$");
        assertMatches(section("arguments"), "^a = 2\\nb = 3$");
        assertMatches(section("locals"), "^\\$3 = 5$");
        assertMatches(section("locals"), "^sum = 5$");
    }

    @Test
    void nextRunsOverALine() {
        assertMatches(section("next"), "^20\\t    return sum;$");
    }

    @Test
    void finishShowsTheReturnValue() {
        String text = section("finish add");
        assertMatches(text, "^Run till exit from #0  add \\(a=2, b=3\\) at .*e2e\\.c:20$");
        assertMatches(text, "^(0x[0-9a-f]+ in )?e2e_main \\(vcpu=0, vcpus=1, ram=134217728\\) at .*e2e\\.c:58$");
        assertMatches(text, "^Value returned is \\$\\d+ = 5$");
    }

    @Test
    void backtraceThroughRecursion() {
        assertMatches(section("conditional break"), "^Breakpoint 2 at 0x[0-9a-f]+: file .*e2e\\.c, line 28\\.$");
        // The condition is false for n = 5 and n = 4: the stub steps off the breakpoint each time.
        assertMatches(section("conditional break"), "^Breakpoint 2, factorial \\(n=3\\) at .*e2e\\.c:28$");
        String bt = section("backtrace");
        assertMatches(bt, "^#0  factorial \\(n=3\\) at .*e2e\\.c:28$");
        assertMatches(bt, "^#1  0x[0-9a-f]+ in factorial \\(n=4\\) at .*e2e\\.c:31$");
        assertMatches(bt, "^#2  0x[0-9a-f]+ in factorial \\(n=5\\) at .*e2e\\.c:31$");
        assertMatches(bt, "^#3  0x[0-9a-f]+ in e2e_main \\(vcpu=0, vcpus=1, ram=134217728\\) at .*e2e\\.c:59$");
        String finish = section("finish factorial");
        assertMatches(finish, "^Run till exit from #0  factorial \\(n=3\\) at .*e2e\\.c:28$");
        assertMatches(finish, "^(0x[0-9a-f]+ in )?factorial \\(n=4\\) at .*e2e\\.c:31$");
        assertMatches(finish, "^Value returned is \\$\\d+ = 6$");
    }

    @Test
    void printGlobalsAndAStruct() {
        String text = section("globals");
        assertMatches(text, "^\\$\\d+ = \\{x = 3, y = 4\\}$");
        assertMatches(text, "^\\$\\d+ = 3$");
        assertMatches(text, "^\\$\\d+ = \\(struct point \\*\\) 0x[0-9a-f]+ <origin>$");
    }

    @Test
    void setVarIsReadBack() {
        String text = section("set var");
        assertMatches(text, "^\\$\\d+ = 42$");
        assertMatches(text, "^\\$\\d+ = \\{x = 3, y = 10\\}$");
    }

    @Test
    void examineMemoryShowsWhatSetVarWrote() {
        String text = section("examine");
        assertMatches(text, "^0x[0-9a-f]+ <origin>:\\t3\\t10$");
        assertMatches(text, "^0x[0-9a-f]+ <exit_code>:\\t0x2a\\t0x00\\t0x00\\t0x00$");
    }

    @Test
    void temporaryBreakpointStopsOnceAndIsGone() {
        String text = section("tbreak");
        assertMatches(text, "^Temporary breakpoint 3 at 0x[0-9a-f]+: file .*e2e\\.c, line 35\\.$");
        assertMatches(text, "^Temporary breakpoint 3, distance2 \\(p=0x[0-9a-f]+ <origin>\\) at .*e2e\\.c:35$");
        assertContains(text, "No breakpoints or watchpoints.");
        // The struct behind a pointer argument, as the guest sees it after set var.
        assertMatches(section("struct argument"), "^\\$\\d+ = \\{x = 3, y = 10\\}$");
        assertMatches(section("struct argument"), "^\\$\\d+ = 10$");
    }

    @Test
    void nextAndStepIntoACall() {
        String text = section("step");
        assertMatches(text, "^36\\t    long dy = p->y;$");
        assertMatches(text, "^37\\t    return square\\(dx\\) \\+ square\\(dy\\);$");
        assertMatches(text, "^square \\(v=3\\) at .*e2e\\.c:24$");
        assertMatches(text, "^#0  square \\(v=3\\) at .*e2e\\.c:24$");
        assertMatches(text, "^#1  0x[0-9a-f]+ in distance2 \\(p=0x[0-9a-f]+ <origin>\\) at .*e2e\\.c:37$");
        assertMatches(section("finish square"), "^Value returned is \\$\\d+ = 9$");
    }

    @Test
    void hardwareBreakpoint() {
        String text = section("hbreak");
        assertMatches(text, "^Hardware assisted breakpoint 4 at 0x[0-9a-f]+: file .*e2e\\.c, line 41\\.$");
        assertMatches(text, "^Breakpoint 4, loop_sum \\(n=10\\) at .*e2e\\.c:41$");
    }

    @Test
    void stepiExecutesOneInstruction() {
        String text = section("stepi");
        // x/2i shows the current instruction and the next; after stepi the pc is the second one.
        String next = gdb.find("stepi", "^   (0x[0-9a-f]+) <loop_sum\\+\\d+>:");
        assertMatches(text, "^=> 0x[0-9a-f]+ <loop_sum\\+\\d+>:\\t");
        assertMatches(text, "^\\$\\d+ = \\(void \\(\\*\\)\\(\\)\\) " + next + " <loop_sum\\+\\d+>$");
    }

    @Test
    void untilRunsToALaterLine() {
        String text = section("until");
        assertMatches(text, "^loop_sum \\(n=10\\) at .*e2e\\.c:45$");
        assertMatches(text, "^45\\t    return total;$");
        assertMatches(text, "^\\$\\d+ = 45$");
    }

    @Test
    void detachLetsTheGuestFinishWithItsOwnExitStatus() {
        String text = section("detach");
        assertContains(text, "Detaching from program: " + elf + ", Remote target");
        assertContains(text, "[Inferior 1 (Remote target) detached]");
        assertTrue(serial.contains("e2e guest done\n"), "the guest ran to its end after the detach:\n" + launcher);
        assertEquals(EXIT_CODE_AFTER_DETACH << 1 | 1, launcherStatus.orElse(-1),
                "the launcher exits with the guest's exit-port value v as (v << 1) | 1"
                        + (launcherStatus.isEmpty() ? " (it was still running)" : "") + ":\n" + launcher);
    }

    // ---- helpers ----

    private String section(String name) {
        return gdb.section(name);
    }

    private void assertContains(String text, String expected) {
        assertTrue(text.contains(expected), "'" + expected + "' not in:\n" + text + "\n=== the whole session:\n" + gdb);
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + gdb);
    }
}

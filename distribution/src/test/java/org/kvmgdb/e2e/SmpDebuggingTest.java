package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * One gdb session on the two-vCPU guest (src/guests/smp.c) under {@code bin/kvmgdb run --cpus 2 -S}:
 * every vCPU a thread with its name, both vCPUs hitting one breakpoint, {@code thread 2} and
 * {@code bt} on each, a breakpoint hit on vCPU 1 while vCPU 0 spins, Ctrl-C, {@code set
 * scheduler-locking on} with {@code next}, and {@code next} over a loop line as one range step
 * ({@code vCont;r}). The guest is launched once and gdb runs once; each test checks one part.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmpDebuggingTest {
    /** The guest ends with guest_exit(0): the exit port turns it into (0 << 1) | 1. */
    private static final int GUEST_EXIT_STATUS = 1;
    /** loop_line(1000): 0 + 1 + ... + 999. */
    private static final long LOOP_TOTAL = 999L * 1000 / 2;
    private static final String RAM = "134217728";

    private GdbBatch.Result gdb;
    private OptionalInt launcherStatus;
    private String serial;
    private String launcher;

    @BeforeAll
    void debugTheGuestOnce() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("smp.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf, "--cpus", "2")) {
            String target = guest.awaitGdbTarget();
            batch.file(elf)
                    .section("connect").commands("target remote " + target, "info threads")
                    .section("shared breakpoint").commands("break shared_work", "continue", "continue")
                    .section("thread 2").commands("thread 2", "bt")
                    .section("thread 1").commands("thread 1", "bt")
                    .section("vcpu 1 breakpoint").commands("delete",
                            // vCPU 1 reaches its checkpoint only after vCPU 0 has spun 200 more times in this continue.
                            "set var armed = spins[0] + 200", "break vcpu1_checkpoint", "continue")
                    .section("ctrl-c").commands("delete").commands(GdbBatch.continueAndLogResume())
                    .section("interrupted").commands("info threads")
                    .section("scheduler-locking").commands("thread 1", "set var release = 1", "set scheduler-locking on",
                            "print spins[1]", "info threads", "next", "next", "next", "print spins[1]", "info threads")
                    .section("into the loop").commands("step", "next")
                    .section("next over the loop").commands("set debug remote 1", "next", "set debug remote 0")
                    .section("loop total").commands("print total")
                    .section("exit").commands("set scheduler-locking off", "continue");
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
    void infoThreadsShowsEveryVcpuByName() {
        String connect = section("connect");
        assertMatches(connect, "^\\* 1    Thread 1 \"vCPU 0\" \\(stopped at 0x100000\\) 0x0+100000 in _start \\(\\)$");
        assertMatches(connect, "^  2    Thread 2 \"vCPU 1\" \\(stopped at 0x100000\\) 0x0+100000 in _start \\(\\)$");
    }

    @Test
    void bothVcpusHittingOneBreakpointAreReportedOneAfterTheOther() {
        Matcher hit = Pattern.compile("^Thread (\\d) \"vCPU (\\d)\" hit Breakpoint 1, shared_work \\(vcpu=(\\d)\\) at .*smp\\.c:"
                + line("shared body") + "$", Pattern.MULTILINE).matcher(section("shared breakpoint"));
        List<Integer> threads = new ArrayList<>();
        while (hit.find()) {
            int thread = Integer.parseInt(hit.group(1));
            assertEquals(thread - 1, Integer.parseInt(hit.group(2)), "thread N is vCPU N-1");
            assertEquals(thread - 1, Integer.parseInt(hit.group(3)), "each vCPU calls shared_work with its own index");
            threads.add(thread);
        }
        assertEquals(2, threads.size(), "two stops, one per vCPU:\n" + gdb);
        assertNotEquals(threads.get(0), threads.get(1), "the second stop is the other vCPU's:\n" + gdb);
    }

    @Test
    void threadSelectsTheVcpuWhoseStackBtShows() {
        String two = section("thread 2");
        assertMatches(two, "^\\[Switching to thread 2 \\(Thread 2\\)\\]$");
        assertMatches(two, "^#\\d+ +(0x[0-9a-f]+ in )?smp_main \\(vcpu=1, vcpus=2, ram=" + RAM + "\\) at .*smp\\.c:\\d+$");
        assertMatches(two, "^#\\d+ +0x[0-9a-f]+ in _start \\(\\)$");
        String one = section("thread 1");
        assertMatches(one, "^\\[Switching to thread 1 \\(Thread 1\\)\\]$");
        assertMatches(one, "^#\\d+ +(0x[0-9a-f]+ in )?smp_main \\(vcpu=0, vcpus=2, ram=" + RAM + "\\) at .*smp\\.c:\\d+$");
        assertMatches(one, "^#\\d+ +0x[0-9a-f]+ in _start \\(\\)$");
    }

    @Test
    void aBreakpointHitOnVcpu1WhileVcpu0SpinsIsReportedOnThread2() {
        String text = section("vcpu 1 breakpoint");
        assertMatches(text, "^Thread 2 \"vCPU 1\" hit Breakpoint 2, vcpu1_checkpoint \\(count=\\d+\\) at .*smp\\.c:"
                + line("checkpoint body") + "$");
        // The hit itself shows both ran together: vCPU 1 calls vcpu1_checkpoint only once vCPU 0 has
        // spun 200 more times after the armed value was set, so a stub resuming vCPU 1 alone never gets here.
    }

    @Test
    void ctrlCStopsTheGuestAndNamesAThread() {
        assertMatches(section("ctrl-c"), "^Thread [12] \"vCPU [01]\" received signal SIGINT, Interrupt\\.$");
        String threads = section("interrupted");
        assertMatches(threads, "^[* ] 1    Thread 1 \"vCPU 0\" \\(stopped at 0x[0-9a-f]+\\) .*smp_main \\(vcpu=0, .*smp\\.c:"
                + line("vcpu0 spin") + "$");
        // vCPU 1 was just let go from vcpu1_checkpoint: Ctrl-C may find it still there or back in its loop.
        assertMatches(threads, "^[* ] 2    Thread 2 \"vCPU 1\" \\(stopped at 0x[0-9a-f]+\\) .*(smp_main \\(vcpu=1, |vcpu1_checkpoint \\().*smp\\.c:\\d+$");
    }

    @Test
    void withSchedulerLockingOnNextMovesOnlyTheCurrentVcpu() {
        String text = section("scheduler-locking");
        // next from the spin loop (released) to the line after it, and two lines on.
        assertMatches(text, "^" + line("after release") + "\\s+long a = 1;");
        assertMatches(text, "^" + line("call loop") + "\\s+loop_total = loop_line");
        Matcher printed = Pattern.compile("^\\$\\d+ = (\\d+)$", Pattern.MULTILINE).matcher(text);
        assertTrue(printed.find(), text);
        String before = printed.group(1);
        assertTrue(printed.find(), text);
        assertEquals(before, printed.group(1), "vCPU 1 counted nothing while vCPU 0 stepped:\n" + text);
        Matcher vcpu1 = Pattern.compile("^  2    Thread 2 \"vCPU 1\" .*$", Pattern.MULTILINE).matcher(text);
        assertTrue(vcpu1.find(), text);
        String frameBefore = vcpu1.group();
        assertTrue(vcpu1.find(), text);
        assertEquals(frameBefore, vcpu1.group(), "vCPU 1 stands where it stood");
    }

    @Test
    void nextOverALoopLineIsOneRangeStep() {
        assertMatches(section("into the loop"), "^" + line("loop") + "\\s+do total \\+= i\\+\\+; while \\(i < n\\);");
        String next = section("next over the loop");
        assertEquals(1, count(next, "Sending packet: \\$vCont;r"), "one vCont;r for 1000 iterations:\n" + next);
        assertEquals(0, count(next, "Sending packet: \\$vCont;s"), "no single step over the wire:\n" + next);
        assertMatches(next, "^" + line("after loop") + "\\s+return total;");
        assertMatches(section("loop total"), "^\\$\\d+ = " + LOOP_TOTAL + "$");
    }

    @Test
    void theGuestRunsToItsEndWithBothVcpus() {
        String code = String.format("%02o", GUEST_EXIT_STATUS);
        assertTrue(section("exit").contains("[Inferior 1 (Remote target) exited with code " + code + "]"), gdb.toString());
        assertTrue(serial.contains("smp guest done\n"), launcher);
        assertEquals(GUEST_EXIT_STATUS, launcherStatus.orElse(-1), launcher);
    }

    /** The line of smp.c whose comment says {@code LINE: marker}. */
    private static int line(String marker) {
        return LaunchedGuest.sourceLine("smp.c", marker);
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private String section(String name) {
        return gdb.section(name);
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + gdb);
    }
}

package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * LLDB on the two-vCPU guest (src/guests/smp.c) under {@code bin/kvmgdb run --cpus 2 -S}: each vCPU
 * is a thread named as gdb names it ({@code vCPU 0}, {@code vCPU 1}, from {@code hexname:} in the
 * stop replies and {@code qThreadStopInfo}), a breakpoint both vCPUs run into, {@code bt all},
 * another thread's variables, and a detach after which the guest finishes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LldbSmpDebuggingTest {
    /** smp.c ends with guest_exit(0): the launcher exits with (0 << 1) | 1. */
    private static final int GUEST_EXIT_STATUS = 1;

    private LldbBatch.Result lldb;
    private OptionalInt status;
    private String serial;
    private String launcher;

    @BeforeAll
    void debugTheTwoVcpusWithLldb() throws Exception {
        // -Dtest=Lldb* selects this class in the unit-test run too; it runs in the end-to-end run.
        assumeTrue(System.getProperty("kvmgdb.home") != null,
                "kvmgdb.home is not set: an end-to-end test, run by the integration-test phase of mvn verify");
        LldbBatch batch = LldbBatch.lldb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("smp.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf, "--cpus", "2")) {
            lldb = batch.file(elf).commands(
                    "gdb-remote " + guest.awaitGdbTarget(),
                    "thread list",
                    "breakpoint set -n shared_work",
                    "continue",
                    "bt all",
                    "thread select 1",
                    "frame variable vcpu",
                    "thread select 2",
                    "frame variable vcpu",
                    "breakpoint delete 1",
                    // smp.c: vCPU 0 spins until release is set, then ends the VM.
                    "expression release = 1",
                    "detach").run();
            status = guest.awaitExit();
            serial = guest.stdout();
            launcher = guest.toString();
        }
    }

    @Test
    void everyVcpuIsAThreadWithItsName() {
        String threads = lldb.after("thread list");
        assertMatches(threads, "^\\* thread #1: tid = 0x0001, 0x0000000000100000 smp.elf`_start, name = 'vCPU 0', stop reason = signal SIGTRAP$");
        assertMatches(threads, "^  thread #2: tid = 0x0002, 0x0000000000100000 smp.elf`_start, name = 'vCPU 1'$");
    }

    @Test
    void theBreakpointStopsTheVcpuThatRanIntoIt() {
        // Both vCPUs call shared_work at about the same moment; either may be reported first.
        Matcher stop = find(lldb.stopAfter("continue"), "^\\* thread #(\\d), name = 'vCPU (\\d)', stop reason = breakpoint 1.1$");
        int thread = Integer.parseInt(stop.group(1));
        assertEquals(thread - 1, Integer.parseInt(stop.group(2)), "thread N is vCPU N-1");
        assertMatches(lldb.stopAfter("continue"), "smp.elf`shared_work\\(vcpu=" + (thread - 1) + "\\) at smp.c:\\d+");
    }

    @Test
    void btAllShowsBothVcpus() {
        String bt = lldb.after("bt all");
        assertMatches(bt, "thread #1, name = 'vCPU 0'");
        assertMatches(bt, "thread #2, name = 'vCPU 1'");
        // Each vCPU's own smp_main frame, with its own arguments.
        assertMatches(bt, "smp.elf`smp_main\\(vcpu=0, vcpus=2, ram=134217728\\)");
        assertMatches(bt, "smp.elf`smp_main\\(vcpu=1, vcpus=2, ram=134217728\\)");
    }

    @Test
    void eachThreadShowsItsOwnVariables() {
        // (LLDB prints what thread select shows later, among the following commands' output.)
        assertMatches(lldb.after("frame variable vcpu", 1), "^\\(unsigned long\\) vcpu = 0$");
        assertMatches(lldb.after("frame variable vcpu", 2), "^\\(unsigned long\\) vcpu = 1$");
    }

    @Test
    void afterDetachTheGuestFinishes() {
        assertMatches(lldb.after("expression release = 1"), "^\\(volatile int\\) \\$\\d+ = 1$");
        assertMatches(lldb.after("detach"), "Process 1 detached");
        assertEquals(OptionalInt.of(GUEST_EXIT_STATUS), status, "the launcher's exit status\n" + launcher + "\n" + lldb);
        assertTrue(serial.contains("smp guest done"), "the guest finished\n" + launcher);
    }

    private Matcher find(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), "/" + regex + "/ not in:\n" + text + "\n--- whole session\n" + lldb);
        return m;
    }

    private void assertMatches(String text, String regex) {
        find(text, regex);
    }
}

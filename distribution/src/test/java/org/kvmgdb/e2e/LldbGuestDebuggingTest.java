package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.core.registry.ProviderEntry;
import org.kvmgdb.core.registry.ProviderRegistry;

/**
 * LLDB as the client: Debian's lldb-16 in batch mode against guests under {@code bin/kvmgdb run -S},
 * as a user would debug them. Two sessions, each run once:
 * <ul>
 *   <li>with the symbols of e2e.c ({@code lldb-16 e2e.elf}, {@code gdb-remote HOST:PORT}): registers,
 *       memory, a breakpoint by function name, continue, bt, step, finish, next, variables, a
 *       watchpoint (served by stepping on this project's PVM hosts), and a detach after which the
 *       guest runs to its exit status;</li>
 *   <li>without any symbols ({@code process connect connect://HOST:PORT}): everything LLDB knows
 *       comes from the stub, the architecture from {@code qHostInfo} and every register from
 *       {@code target.xml}; stepi, register write, and a continue to the guest's exit.</li>
 * </ul>
 * Line numbers are e2e.c's (it asks to be kept stable).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LldbGuestDebuggingTest {
    /** e2e.c's {@code exit_code}, set from LLDB before the detach: the launcher exits with (5 << 1) | 1. */
    private static final int EXIT_CODE_AFTER_DETACH = 5;
    /** e2e.c's own {@code exit_code}: the launcher exits with (3 << 1) | 1 when nobody changes it. */
    private static final int EXIT_CODE = 3;

    private String target;
    private LldbBatch.Result lldb;
    private OptionalInt status;
    private String serial;
    private String launcher;

    private LldbBatch.Result bare;
    private OptionalInt bareStatus;
    private String bareLauncher;

    @BeforeAll
    void debugTheGuestWithLldb() throws Exception {
        // -Dtest=Lldb* selects this class in the unit-test run too, before package has built the
        // product; the end-to-end run (integration-test, which sets kvmgdb.home) is where it runs.
        assumeTrue(System.getProperty("kvmgdb.home") != null,
                "kvmgdb.home is not set: an end-to-end test, run by the integration-test phase of mvn verify");
        LldbBatch batch = LldbBatch.lldb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            target = guest.awaitGdbTarget();
            lldb = batch.file(elf).commands(
                    "gdb-remote " + target,
                    "register read rip rdi rsi rdx rsp",
                    "memory read --size 8 --format x --count 2 &origin",
                    "breakpoint set -n add",
                    "continue",
                    "bt",
                    "step",
                    "frame variable sum",
                    "finish",
                    "next",
                    "expression exit_code = " + EXIT_CODE_AFTER_DETACH,
                    "breakpoint delete 1",
                    "watchpoint set variable counter",
                    "continue",
                    "watchpoint delete 1",
                    "detach").run();
            status = guest.awaitExit();
            serial = guest.stdout();
            launcher = guest.toString();
        }
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            bare = LldbBatch.lldb().commands(
                    "process connect connect://" + guest.awaitGdbTarget(),
                    "target list",
                    "register read --all",
                    "stepi",
                    "register read rip",
                    // _start calls e2e_main next, which sets rax before it reads it.
                    "register write rax 0x1234",
                    "register read rax",
                    "memory read --count 8 0x100000",
                    "continue").run();
            bareStatus = guest.awaitExit();
            bareLauncher = guest.toString();
        }
    }

    @Test
    void lldbConnectsToTheGuestStoppedAtItsEntry() {
        String connect = lldb.stopAfter("gdb-remote " + target);
        assertContains(connect, "Process 1 stopped");
        assertContains(connect, "stop reason = signal SIGTRAP");
        assertContains(connect, "frame #0: 0x0000000000100000 e2e.elf`_start");
        // The guest ABI's registers: vCPU 0 of 1, 128 MiB, the stack at the top of RAM.
        String registers = lldb.after("register read rip rdi rsi rdx rsp");
        assertRegister(registers, "rip", "0x0000000000100000");
        assertRegister(registers, "rdi", "0x0000000000000000");
        assertRegister(registers, "rsi", "0x0000000000000001");
        assertRegister(registers, "rdx", "0x0000000008000000");
        assertRegister(registers, "rsp", "0x0000000008000000");
    }

    @Test
    void memoryReadShowsTheGuestsData() {
        // e2e.c: struct point origin = {3, 4};
        assertMatches(lldb.after("memory read --size 8 --format x --count 2 &origin"),
                "0x[0-9a-f]+: 0x0000000000000003 0x0000000000000004");
    }

    @Test
    void aBreakpointByFunctionNameStopsTheGuestThere() {
        assertContains(lldb.after("breakpoint set -n add"), "Breakpoint 1: where = e2e.elf`add + ");
        String stop = lldb.stopAfter("continue");
        assertContains(stop, "stop reason = breakpoint 1.1");
        assertContains(stop, "e2e.elf`add(a=2, b=3) at e2e.c:19");
    }

    @Test
    void backtraceUnwindsToTheEntry() {
        String bt = lldb.after("bt");
        assertMatches(bt, "frame #0: 0x[0-9a-f]+ e2e.elf`add\\(a=2, b=3\\) at e2e.c:19");
        assertMatches(bt, "frame #1: 0x[0-9a-f]+ e2e.elf`e2e_main\\(vcpu=0, vcpus=1, ram=134217728\\) at e2e.c:58");
        assertMatches(bt, "frame #2: 0x0000000000100008 e2e.elf`_start \\+ 8");
    }

    @Test
    void stepGoesToTheNextLineAndVariablesAreRead() {
        String step = lldb.stopAfter("step");
        assertContains(step, "stop reason = step in");
        assertContains(step, "e2e.elf`add(a=2, b=3) at e2e.c:20");
        assertContains(lldb.after("frame variable sum"), "(long) sum = 5");
    }

    @Test
    void finishReturnsToTheCallerWithTheValueAndNextGoesToTheNextLine() {
        String finish = lldb.stopAfter("finish");
        assertContains(finish, "stop reason = step out");
        assertMatches(finish, "^Return value: \\(long\\) \\$\\d+ = 5$");
        assertContains(finish, "e2e.elf`e2e_main(vcpu=0, vcpus=1, ram=134217728) at e2e.c:58");
        String next = lldb.stopAfter("next");
        assertContains(next, "stop reason = step over");
        assertContains(next, "e2e.elf`e2e_main(vcpu=0, vcpus=1, ram=134217728) at e2e.c:59");
    }

    @Test
    void aWatchpointStopsAfterTheWriteWithOldAndNewValue() {
        assertMatches(lldb.after("watchpoint set variable counter"),
                "Watchpoint created: Watchpoint 1: addr = 0x[0-9a-f]+ size = 8 state = enabled type = w");
        String hit = lldb.stopAfter("continue", 2);
        assertContains(hit, "Watchpoint 1 hit:");
        assertContains(hit, "old value: 0");
        // counter = a + f + d + s = 5 + 120 + 25 + 45; the stop is after the writing instruction, on line 63.
        assertContains(hit, "new value: 195");
        assertContains(hit, "stop reason = watchpoint 1");
        assertContains(hit, "e2e.elf`e2e_main(vcpu=0, vcpus=1, ram=134217728) at e2e.c:63");
    }

    @Test
    void afterDetachTheGuestRunsOnToItsExitStatus() {
        assertMatches(lldb.after("expression exit_code = " + EXIT_CODE_AFTER_DETACH), "^\\(int\\) \\$\\d+ = 5$");
        assertContains(lldb.after("detach"), "Process 1 detached");
        assertEquals(OptionalInt.of((EXIT_CODE_AFTER_DETACH << 1) | 1), status, "the launcher's exit status\n" + launcher + "\n" + lldb);
        assertTrue(serial.contains("e2e guest done"), "the guest finished on its own\n" + launcher);
    }

    @Test
    void withoutSymbolsTheArchitectureComesFromQHostInfoAndTheExitIsReported() {
        assertContains(bare.stopAfter("process connect connect://" + targetOf(bareLauncher)), "Process 1 stopped");
        assertMatches(bare.after("target list"), "arch=x86_64-[^,]*, platform=[^,]+, pid=1, state=stopped");
        assertMatches(bare.stopAfter("stepi"), "stop reason = instruction step into");
        assertRegister(bare.after("register read rip"), "rip", "0x0000000000100003");
        // e2e.elf's _start: xor %rbp,%rbp; call e2e_main.
        assertContains(bare.after("memory read --count 8 0x100000"), "0x00100000: 48 31 ed e8");
        assertRegister(bare.after("register read rax"), "rax", "0x0000000000001234");
        // Run to the end: the guest's exit status, as the launcher exits with it.
        assertContains(bare.stopAfter("continue"), "Process 1 exited with status = " + ((EXIT_CODE << 1) | 1));
        assertEquals(OptionalInt.of((EXIT_CODE << 1) | 1), bareStatus, "the launcher's exit status\n" + bareLauncher + "\n" + bare);
    }

    /** LLDB shows every register of the target description, with its value, from target.xml alone. */
    @Test
    void everyRegisterOfTheTargetDescriptionIsShown() {
        String all = bare.after("register read --all");
        List<String> missing = new ArrayList<>();
        for (RegisterDescriptor r : x86Registers()) {
            if (!Pattern.compile("^\\s+" + Pattern.quote(r.name()) + " = \\S", Pattern.MULTILINE).matcher(all).find()) {
                missing.add(r.name());
            }
        }
        assertEquals(List.of(), missing, "registers LLDB did not show\n" + all);
        // Values as the guest ABI sets them, and the x87/SSE defaults of KVM's reset state.
        assertRegister(all, "rdx", "0x0000000008000000");
        assertRegister(all, "cr0", "0x0000000080050033");
        assertRegister(all, "efer", "0x0000000000000500");
        assertRegister(all, "fctrl", "0x0000037f");
        assertRegister(all, "mxcsr", "0x00001f80");
    }

    private static List<RegisterDescriptor> x86Registers() {
        ProviderRegistry registry = ProviderRegistry.load();
        return registry.architecture("x86-64").map(ProviderEntry::provider)
                .orElseThrow(() -> new AssertionError("no x86-64 architecture on the class path: " + registry.architectures()))
                .targetDescription().registers();
    }

    /** The HOST:PORT the launcher announced, from its printed output. */
    private static String targetOf(String launcher) {
        var m = LaunchedGuest.LISTENING.matcher(launcher);
        assertTrue(m.find(), launcher);
        return m.group(1) + ":" + m.group(2);
    }

    private void assertRegister(String text, String name, String value) {
        assertMatches(text, "^\\s+" + Pattern.quote(name) + " = " + Pattern.quote(value) + "\\b");
    }

    private void assertContains(String text, String expected) {
        assertTrue(text.contains(expected), "'" + expected + "' not in:\n" + text + "\n--- whole session\n" + lldb);
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n--- whole session\n" + lldb);
    }
}

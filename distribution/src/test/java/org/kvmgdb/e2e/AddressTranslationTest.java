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
 * The paging guest (src/guests/paging.c) on two vCPUs under {@code bin/kvmgdb run --cpus 2 -S}:
 * vCPU 0 builds a mapping of its own at 0xffff800000000000 (an alias of low memory) and switches
 * CR3 to it; vCPU 1 keeps the boot tables, which lack it, as a vCPU stopped in user mode with KPTI
 * lacks the kernel. gdb reads the alias through vCPU 0, fails to in physical mode (where the alias
 * is no address), reads the physical address instead, and reads the alias from vCPU 1 too: the
 * stub takes kernel addresses from another vCPU's page tables when the selected one lacks them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AddressTranslationTest {
    private static final String MESSAGE = "\"hello from the high half\"";

    private GdbBatch.Result gdb;
    private OptionalInt launcherStatus;
    private String serial;
    private String launcher;

    @BeforeAll
    void debugTheGuestOnce() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("paging.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf, "--cpus", "2")) {
            gdb = batch.file(elf)
                    .section("connect").commands("target remote " + guest.awaitGdbTarget(), "break tables_ready", "continue")
                    .section("high").commands("print high_message", "x/s high_message", "print high_sum")
                    .section("info mem 1").commands("monitor info mem 0xffff800000000000 0xffff800000400000")
                    .section("physical").commands("maint packet Qqemu.PhyMemMode:1", "x/s high_message", "x/s &message",
                            "maint packet Qqemu.PhyMemMode:0")
                    .section("vcpu 1").commands("thread 2", "monitor info regs",
                            "monitor info mem 0xffff800000000000 0xffff800000400000", "x/s high_message",
                            "x/s 0xffff800000000000 + (unsigned long) &message")
                    .section("detach").commands("thread 1", "delete", "detach")
                    .run();
            launcherStatus = guest.awaitExit();
            serial = guest.stdout();
            launcher = guest.toString();
        }
    }

    @Test
    void theGuestsOwnHighMappingIsReadThroughX() {
        assertMatches(gdb.section("connect"), "^Thread 1 \"vCPU 0\" hit Breakpoint 1, tables_ready \\(\\) at .*paging\\.c:\\d+$");
        String high = gdb.section("high");
        assertMatches(high, "^\\$1 = 0xffff800000[0-9a-f]{6} " + MESSAGE + "$");
        assertMatches(high, "^0xffff800000[0-9a-f]{6}:\\t" + MESSAGE + "$");
        // The guest summed the bytes through the alias itself: the same memory gdb read.
        assertMatches(high, "^\\$2 = 2244$");
    }

    @Test
    void infoMemShowsTheMappingTheGuestBuilt() {
        String mem = gdb.section("info mem 1");
        assertMatches(mem, "^vCPU 0, 4-level paging, cr3 0x[0-9a-f]+: \\[0xffff800000000000, 0xffff800000400000\\)$");
        assertMatches(mem, "^0xffff800000000000-0xffff800000400000 -> 0x0000000000000000  2M    rw kernel exec$");
    }

    @Test
    void inPhysicalModeTheVirtualReadFailsAndThePhysicalOneSucceeds() {
        String physical = gdb.section("physical");
        assertMatches(physical, "^sending: Qqemu.PhyMemMode:1\\nreceived: \"OK\"$");
        assertMatches(physical, "^0xffff800000[0-9a-f]{6}:\\t<error: Cannot access memory at address 0xffff800000[0-9a-f]{6}>$");
        assertMatches(physical, "^0x[0-9a-f]+ <message>:\\t" + MESSAGE + "$");
    }

    @Test
    void aVcpuWithoutTheKernelMappingReadsItThroughAnotherVcpusTables() {
        String vcpu1 = gdb.section("vcpu 1");
        assertMatches(vcpu1, "^\\[Switching to thread 2 \\(Thread 2\\)\\]$");
        assertMatches(vcpu1, "^vCPU 1:$");
        assertMatches(vcpu1, "^cr3 +0x2000 +page tables at 0x2000$");
        assertMatches(vcpu1, "^vCPU 1, 4-level paging, cr3 0x2000: \\[0xffff800000000000, 0xffff800000400000\\)\\nnothing is mapped there$");
        assertMatches(vcpu1, "^0xffff800000[0-9a-f]{6}:\\t" + MESSAGE + "$");
        assertTrue(!vcpu1.contains("Cannot access memory"), vcpu1);
    }

    @Test
    void theGuestFinishesAfterTheDetach() {
        assertMatches(gdb.section("detach"), "^\\[Inferior 1 \\(Remote target\\) detached\\]$");
        assertTrue(serial.contains("paging guest done\n"), launcher);
        assertEquals(1, launcherStatus.orElse(-1), "exit value 0 as (0 << 1) | 1:\n" + launcher);
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + gdb);
    }
}

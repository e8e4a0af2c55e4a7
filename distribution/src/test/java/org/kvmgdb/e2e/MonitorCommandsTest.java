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
 * gdb's {@code monitor} commands and QEMU's physical-memory mode ({@code maint packet
 * Qqemu.PhyMemMode:1}) on the e2e guest under {@code bin/kvmgdb run -S}, in one gdb session. The
 * guest is in the boot state of the guest ABI: long mode, CR0 0x80050033, EFER 0x500, RAM
 * identity-mapped with 2 MiB pages.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MonitorCommandsTest {
    /** e2e.c's exit_code, which nothing changes here: the launcher exits with (3 << 1) | 1. */
    private static final int EXIT_CODE = 3;

    private GdbBatch.Result gdb;
    private OptionalInt launcherStatus;
    private String launcher;

    @BeforeAll
    void debugTheGuestOnce() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            gdb = batch.file(elf)
                    .section("connect").commands("target remote " + guest.awaitGdbTarget())
                    .section("help").commands("monitor help")
                    .section("vcpus").commands("monitor info vcpus")
                    .section("mem").commands("monitor info mem 0x100000 0x200000")
                    .section("regs").commands("monitor info regs")
                    .section("unknown").commands("monitor frobnicate", "monitor info")
                    .section("bad arguments").commands("monitor info mem 0x100000")
                    .section("virtual").commands("x/4xb 0x100000")
                    .section("physical").commands("maint packet qqemu.Supported", "maint packet Qqemu.PhyMemMode:1",
                            "maint packet qqemu.PhyMemMode", "x/4xb 0x100000", "x/4xb 0x8000000")
                    .section("virtual again").commands("maint packet Qqemu.PhyMemMode:0", "maint packet qqemu.PhyMemMode",
                            "x/4xb 0x100000")
                    .section("monitor phys").commands("monitor phys on", "maint packet qqemu.PhyMemMode", "x/4xb 0x100000",
                            "monitor phys off", "monitor phys")
                    .section("stats").commands("break add", "continue", "monitor stats")
                    .section("detach").commands("delete", "detach")
                    .run();
            launcherStatus = guest.awaitExit();
            launcher = guest.toString();
        }
    }

    @Test
    void helpListsEveryCommand() {
        String help = gdb.section("help");
        assertMatches(help, "^kvmgdb monitor commands:$");
        assertMatches(help, "^  help \\[COMMAND\\] +this list");
        assertMatches(help, "^  info mem START END +the page-table mappings of virtual \\[START, END\\)");
        assertMatches(help, "^  info regs +control, segment, descriptor-table and debug registers");
        assertMatches(help, "^  info vcpus +each vCPU's gdb thread, state");
        assertMatches(help, "^  phys \\[on\\|off\\] +memory reads and writes address guest-physical memory");
        assertMatches(help, "^  stats +KVM exits by reason, packets by type, time in the guest and in the stub$");
    }

    @Test
    void infoVcpusShowsTheVcpuStoppedAtTheEntry() {
        assertMatches(gdb.section("vcpus"), "^\\* thread 1  vCPU 0   stopped  pc 0x100000$");
    }

    @Test
    void infoMemShowsTheBootIdentityMap() {
        String mem = gdb.section("mem");
        assertMatches(mem, "^vCPU 0, 4-level paging, cr3 0x2000: \\[0x100000, 0x200000\\)$");
        assertMatches(mem, "^0x0000000000100000-0x0000000000200000 -> 0x0000000000100000  2M    rw kernel exec$");
    }

    @Test
    void infoRegsDecodesTheBootState() {
        String regs = gdb.section("regs");
        assertMatches(regs, "^cr0 +0x80050033 +PE MP ET NE WP AM PG$");
        assertMatches(regs, "^cr3 +0x2000 +page tables at 0x2000$");
        assertMatches(regs, "^cr4 +0x620 +PAE OSFXSR OSXMMEXCPT$");
        assertMatches(regs, "^efer +0x500 +LME LMA$");
        assertMatches(regs, "^cs +0x0008  base 0x0000000000000000  limit 0xffffffff  type 0xb code execute/read accessed  dpl 0  P L G$");
        assertMatches(regs, "^gdt +base 0x0000000000001000  limit 0x0017$");
        assertMatches(regs, "^dr7 +0x400 +no slot enabled$");
    }

    @Test
    void anUnknownCommandGetsAHelpfulMessage() {
        String unknown = gdb.section("unknown");
        assertMatches(unknown, "^unknown monitor command \"frobnicate\"; \"monitor help\" lists the commands$");
        assertMatches(unknown, "^\"info\" needs one more word; try: info mem, info regs, info vcpus$");
        String bad = gdb.section("bad arguments");
        assertMatches(bad, "^info mem takes a start and an end address$");
        assertMatches(bad, "^usage: monitor info mem START END$");
    }

    @Test
    void physicalModeReadsTheSameCodeBytesAtTheirPhysicalAddress() {
        String virtual = gdb.find("virtual", "^0x100000 <_start>:((\\t0x[0-9a-f]{2}){4})$");
        String physical = gdb.section("physical");
        assertMatches(physical, "^sending: qqemu.Supported\\nreceived: \"PhyMemMode\"$");
        assertMatches(physical, "^sending: Qqemu.PhyMemMode:1\\nreceived: \"OK\"$");
        assertMatches(physical, "^sending: qqemu.PhyMemMode\\nreceived: \"1\"$");
        assertEquals(virtual, gdb.find("physical", "^0x100000 <_start>:((\\t0x[0-9a-f]{2}){4})$"),
                "guest-physical 0x100000 holds the code at virtual 0x100000 (identity map)");
        assertMatches(physical, "Cannot access memory at address 0x8000000$");
        String back = gdb.section("virtual again");
        assertMatches(back, "^sending: Qqemu.PhyMemMode:0\\nreceived: \"OK\"$");
        assertMatches(back, "^sending: qqemu.PhyMemMode\\nreceived: \"0\"$");
    }

    @Test
    void monitorPhysIsTheSameSwitch() {
        String phys = gdb.section("monitor phys");
        assertMatches(phys, "^physical memory mode is on: memory reads and writes address guest-physical memory$");
        assertMatches(phys, "^sending: qqemu.PhyMemMode\\nreceived: \"1\"$");
        assertMatches(phys, "^0x100000 <_start>:(\\t0x[0-9a-f]{2}){4}$");
        assertMatches(phys, "^physical memory mode is off: memory reads and writes go through the selected vCPU's page tables$");
    }

    @Test
    void statsCountsExitsPacketsAndTime() {
        String stats = gdb.section("stats");
        assertMatches(stats, "^Breakpoint 1, add \\(a=2, b=3\\)");
        assertMatches(stats, "^exits by reason \\(since the VM started\\):$");
        assertMatches(stats, "^  KVM_EXIT_\\w+ +[1-9]\\d*$");
        assertMatches(stats, "^packets by type \\(this session\\):$");
        assertMatches(stats, "^  Z +1$");
        assertMatches(stats, "^  qRcmd +[1-9]\\d*$");
        assertMatches(stats, "^  vCont +[1-9]\\d*$");
        assertMatches(stats, "^  in the guest +\\d+\\.\\d{6} s  \\(inside KVM_RUN");
        assertMatches(stats, "^    vCPU 0 +\\d+\\.\\d{6} s  [1-9]\\d* exits$");
        assertMatches(stats, "^  running +\\d+\\.\\d{6} s  \\(1 resumes");
        assertMatches(stats, "^  in the stub +\\d+\\.\\d{6} s  \\([1-9]\\d* packets");
    }

    @Test
    void theGuestFinishesAfterTheDetach() {
        assertMatches(gdb.section("detach"), "^\\[Inferior 1 \\(Remote target\\) detached\\]$");
        assertEquals(EXIT_CODE << 1 | 1, launcherStatus.orElse(-1), launcher);
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + gdb);
    }
}

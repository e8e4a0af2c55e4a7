package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The registers a kernel developer reads, through real gdb on the e2e guest under
 * {@code bin/kvmgdb run -S}: the control registers and EFER with QEMU's names and flags types, the
 * segment bases including {@code k_gs_base}, the AVX registers gdb builds from xmm and ymm upper
 * halves; writes that KVM accepts, read back after a {@code stepi} (which drops gdb's register cache,
 * so the values come from KVM again); and a stop reply that carries rip, rsp and rbp, so that gdb does
 * not ask for every register after a step. One launch, one gdb session.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestRegistersTest {
    /** e2e.c's {@code exit_code} as built, through the exit port. */
    private static final int GUEST_EXIT_STATUS = 3 << 1 | 1;

    private GdbBatch.Result gdb;
    private OptionalInt launcherStatus;
    private String launcher;

    @BeforeAll
    void readAndWriteRegisters() throws Exception {
        GdbBatch batch = GdbBatch.gdb();
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            String target = guest.awaitGdbTarget();
            gdb = batch.file(elf)
                    .section("connect").commands("target remote " + target)
                    .section("control").commands("info registers cr0 cr2 cr3 cr4 cr8 efer", "p $efer", "p/x $efer",
                            "p $cr0", "p/x $cr3")
                    .section("general").commands("info registers")
                    .section("bases").commands("info registers fs_base gs_base k_gs_base")
                    .section("avx").commands("p $ymm0", "info registers ymm1", "p $xmm0")
                    .section("write").commands("set $k_gs_base = 0xffff888000001000", "set $cr2 = 0xdead0000",
                            "set $cr8 = 5", "set $gs_base = 0x7000", "set $rbx = 0x1234",
                            "set $ymm0.v4_int64[0] = 0x99", "set $ymm0.v4_int64[2] = 0x1122334455667788")
                    .section("stepi").commands("set debug remote 1", "stepi", "set debug remote 0")
                    .section("read back").commands("p/x $k_gs_base", "p/x $cr2", "p $cr8", "p/x $gs_base", "p/x $rbx",
                            "p/x $ymm0.v4_int64", "p/x $xmm0.v2_int64", "p/x $ymm0h")
                    .section("exit").commands("continue")
                    .run();
            launcherStatus = guest.awaitExit();
            launcher = guest.toString();
        }
    }

    @Test
    void controlRegistersShowTheBootStateWithQemusFlags() {
        String text = section("control");
        // DESIGN.md's guest ABI: long mode with paging, identity map at 0x2000 (X86BootState).
        GdbOverTransportContract.assertRegister(text, "cr0", "0x80050033", "[ PG AM WP NE ET MP PE ]");
        GdbOverTransportContract.assertRegister(text, "cr2", "0x0", "0");
        GdbOverTransportContract.assertRegister(text, "cr3", "0x2000", "[ PDBR=2 PCID=0 ]");
        GdbOverTransportContract.assertRegister(text, "cr4", "0x620", "[ OSXMMEXCPT OSFXSR PAE ]");
        GdbOverTransportContract.assertRegister(text, "cr8", "0x0", "0");
        GdbOverTransportContract.assertRegister(text, "efer", "0x500", "[ LMA LME ]");
        assertMatches(text, "^\\$1 = \\[ LMA LME \\]$");
        assertMatches(text, "^\\$2 = 0x500$");
        assertMatches(text, "^\\$3 = \\[ PG AM WP NE ET MP PE \\]$");
        assertMatches(text, "^\\$4 = 0x2000$");
    }

    @Test
    void infoRegistersListsTheSystemRegistersAfterTheGeneralOnes() {
        String text = section("general");
        for (String name : List.of("rax", "rip", "eflags", "cs", "gs", "fs_base", "gs_base", "k_gs_base",
                "cr0", "cr2", "cr3", "cr4", "cr8", "efer")) {
            assertMatches(text, "^" + name + " +0x");
        }
        assertFalse(Pattern.compile("(?m)^(xmm0|ymm0h|st0) ").matcher(text).find(), "vector and x87 registers are not general:\n" + text);
    }

    @Test
    void segmentBasesIncludeTheKernelGsBase() {
        String text = section("bases");
        GdbOverTransportContract.assertRegister(text, "fs_base", "0x0", "0");
        GdbOverTransportContract.assertRegister(text, "gs_base", "0x0", "0");
        GdbOverTransportContract.assertRegister(text, "k_gs_base", "0x0", "0");
    }

    @Test
    void avxRegistersAreBuiltFromXmmAndTheUpperHalves() {
        String text = section("avx");
        assertMatches(text, "^\\$\\d+ = \\{v16_bfloat16 = \\{0 <repeats 16 times>\\}.*v4_int64 = \\{0, 0, 0, 0\\}, v2_int128 = \\{0, 0\\}\\}$");
        assertMatches(text, "^ymm1 +\\{v16_bfloat16 = .*v4_int64 = \\{0x0, 0x0, 0x0, 0x0\\}.*\\}$");
        assertMatches(text, "^\\$\\d+ = \\{v8_bfloat16 = .*v2_int64 = \\{0, 0\\}, uint128 = 0\\}$");
    }

    @Test
    void writesKvmAcceptsAreReadBackFromKvmAfterAStep() {
        assertFalse(section("write").contains("Could not"), "every write was accepted:\n" + gdb);
        String text = section("read back");
        assertMatches(text, "^\\$\\d+ = 0xffff888000001000$");
        assertMatches(text, "^\\$\\d+ = 0xdead0000$");
        assertMatches(text, "^\\$\\d+ = 5$");
        assertMatches(text, "^\\$\\d+ = 0x7000$");
        assertMatches(text, "^\\$\\d+ = 0x1234$");
        assertMatches(text, "^\\$\\d+ = \\{0x99, 0x0, 0x1122334455667788, 0x0\\}$");
        assertMatches(text, "^\\$\\d+ = \\{0x99, 0x0\\}$");
        assertMatches(text, "^\\$\\d+ = 0x1122334455667788$"); // ymm0h: bits 128..191 of ymm0 are its low half
    }

    @Test
    void theStopReplyCarriesRipRspAndRbpSoGdbSendsNoG() {
        String text = section("stepi");
        // GDB's amd64 numbers: rbp 6, rsp 7, rip 0x10; values little-endian. rip is one instruction on from _start.
        assertMatches(text, "Packet received: T05thread:1;06:[0-9a-f]{16};07:[0-9a-f]{16};10:[0-9a-f]{16};$");
        assertTrue(text.contains("Sending packet: $vCont;s:1"), "gdb stepped:\n" + text);
        assertFalse(text.contains("Sending packet: $g#"), "gdb asked for all registers after the stop:\n" + text);
        assertFalse(Pattern.compile("Sending packet: \\$p[0-9a-f]+#").matcher(text).find(), "gdb asked for a register:\n" + text);
    }

    @Test
    void theGuestRunsOnToItsEndAfterTheWrites() {
        String code = String.format("%02o", GUEST_EXIT_STATUS);
        assertTrue(section("exit").contains("[Inferior 1 (Remote target) exited with code " + code + "]"), gdb.toString());
        assertEquals(GUEST_EXIT_STATUS, launcherStatus.orElse(-1), launcher);
    }

    private String section(String name) {
        return gdb.section(name);
    }

    private void assertMatches(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(),
                "/" + regex + "/ not in:\n" + text + "\n=== the whole session:\n" + gdb);
    }
}

package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.CODE;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.KERNEL_LONG;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.KERNEL_LONG_VA;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.KERNEL_STRING;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.KERNEL_VA;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.PSTATE_EL1H;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.SP_EL0;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.SP_EL1;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.STORE;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.STORED;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.WATCHED_INITIAL;
import static org.kvmgdb.arch.aarch64.SimulatedArm64Guest.WATCHED_VA;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.testing.BatchGdb;
import org.kvmgdb.core.testing.SimulatedKvm;

/**
 * Real gdb-multiarch against the AArch64 plugin as it runs on an arm64 host, with only the kernel
 * simulated ({@link SimulatedArm64Guest}): registers through ONE_REG, {@code BRK #0} planted in the
 * guest's memory, {@code KVM_SET_GUEST_DEBUG} for hardware breakpoints, watchpoints and steps,
 * debug exits classified from the ESR, memory through the plugin's page walker. Each test is one
 * gdb session and asserts what gdb printed and what the simulated kernel received.
 */
class Aarch64MultiarchTest {
    private static final long BP = CODE + 8;
    private static final long AFTER_STORE = STORE + 4;
    private static final long PSTATE = KvmCoreRegs.PSTATE;
    /** kvm_guest_debug.control: KVM_GUESTDBG_ENABLE, _SINGLESTEP, _USE_SW_BP, _USE_HW (include/uapi/linux/kvm.h, arm64 asm/kvm.h). */
    private static final int ENABLE = 0x1, SINGLESTEP = 0x2, USE_SW_BP = 0x10000, USE_HW = 0x20000;

    private SimulatedArm64Guest guest;

    @BeforeEach
    void guest() {
        BatchGdb.assumeMultiarchInstalled();
        guest = new SimulatedArm64Guest();
    }

    @AfterEach
    void close() {
        if (guest != null) {
            guest.close();
        }
    }

    @Test
    void multiarchInfoRegistersShowsTheVcpuRegisterFile() throws Exception {
        String out = guest.gdb("info registers", "detach");

        for (int n = 0; n <= 30; n++) {
            assertEquals(SimulatedArm64Guest.x(n), register(out, "x" + n), "x" + n + " in\n" + out);
        }
        assertEquals(SP_EL1, register(out, "sp"), "EL1h: sp is SP_EL1\n" + out);
        assertEquals(CODE, register(out, "pc"), out);
        assertTrue(Pattern.compile("(?m)^cpsr +0x5 +\\[ SP EL=1 .*\\]$").matcher(out).find(), out);
        assertEquals(SP_EL0, register(out, "sp_el0"), out);
        assertEquals(SimulatedArm64Guest.TTBR1_L0, register(out, "ttbr1_el1"), out);
    }

    @Test
    void multiarchSpIsSpEl1InEl1hAndSpEl0InEl0() throws Exception {
        String el1 = guest.gdb("p/x $sp", "detach");
        guest.cpu().set(PSTATE, 0x0); // EL0t, as if the guest had returned to user mode
        String el0 = guest.gdb("p/x $sp", "p/x $cpsr", "detach");

        assertTrue(el1.contains("$1 = 0x" + Long.toHexString(SP_EL1)), el1);
        assertTrue(el0.contains("$1 = 0x" + Long.toHexString(SP_EL0)), el0);
        assertTrue(el0.contains("$2 = 0x0"), el0);
    }

    /** {@code set $cpsr} changes which stack pointer gdb's sp is, and nothing else; {@code set $sp} writes that one. */
    @Test
    void multiarchSetCpsrSwitchesTheStackPointerGdbSees() throws Exception {
        long newSp = SP_EL0 - 0x1000;
        String out = guest.gdb("p/x $sp", "set $cpsr = 0x0", "maint flush register-cache", "p/x $sp",
                String.format("set $sp = 0x%x", newSp), "maint flush register-cache", "p/x $sp", "p/x $sp_el1", "detach");

        assertTrue(out.contains("$1 = 0x" + Long.toHexString(SP_EL1)), out);
        assertTrue(out.contains("$2 = 0x" + Long.toHexString(SP_EL0)), "EL0t after set $cpsr: sp is SP_EL0\n" + out);
        assertTrue(out.contains("$3 = 0x" + Long.toHexString(newSp)), out);
        assertTrue(out.contains("$4 = 0x" + Long.toHexString(SP_EL1)), "SP_EL1 untouched\n" + out);
        assertEquals(0x0, guest.cpu().get(PSTATE));
        assertEquals(newSp, guest.cpu().get(KvmCoreRegs.SP_EL0));
        assertEquals(SP_EL1, guest.cpu().get(KvmCoreRegs.SP_EL1));
    }

    @Test
    void multiarchPrintsV0AsTheVectorUnion() throws Exception {
        String out = guest.gdb("p $v0", "p/x $v0.d.u", "detach");

        // v0 holds the bytes 00 01 .. 0f: as one 128-bit number, and as 16 bytes.
        String q = new BigInteger("0f0e0d0c0b0a09080706050403020100", 16).toString();
        assertTrue(out.contains("q = {u = {" + q + "}"), out);
        assertTrue(out.contains("b = {u = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}"), out);
        assertTrue(out.contains("$2 = {0x706050403020100, 0xf0e0d0c0b0a0908}"), out);
    }

    @Test
    void multiarchDisassemblesTheInstructionsAtPc() throws Exception {
        String out = guest.gdb("x/4i $pc", "detach");

        assertTrue(out.contains("=> 0x40010000:\tnop\n   0x40010004:\tnop\n   0x40010008:\tnop\n   0x4001000c:\tstr\tx1, [x0]\n"), out);
    }

    @Test
    void multiarchReadsKernelAddressesThroughTtbr1() throws Exception {
        String out = guest.gdb(String.format("x/s 0x%x", KERNEL_VA), String.format("p/x *(long *)0x%x", KERNEL_LONG_VA),
                String.format("x/xg 0x%x", KERNEL_VA + 0x1000), "detach");

        assertTrue(out.contains(String.format("0x%x:\t\"%s\"", KERNEL_VA, KERNEL_STRING)), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(KERNEL_LONG)), out);
        assertTrue(out.contains(String.format("Cannot access memory at address 0x%x", KERNEL_VA + 0x1000)), "the next page is not mapped\n" + out);
    }

    @Test
    void multiarchBreakStopsOnBrkAndLeavesTheOriginalInstruction() throws Exception {
        guest.machine.probe(BP);
        guest.machine.probe(AFTER_STORE);
        // always-inserted: gdb leaves breakpoint 2 in the guest while it is stopped, so detach must take it out.
        String out = guest.gdb("set breakpoint always-inserted on", String.format("break *0x%x", BP),
                String.format("break *0x%x", AFTER_STORE), "continue", "p/x $pc", "delete 1", "stepi", "p/x $pc", "detach");

        assertTrue(out.contains(String.format("Breakpoint 1, 0x%016x in ?? ()", BP)), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(BP)), out);
        List<SimulatedArm64.Run> runs = guest.cpu().runs;
        SimulatedArm64.Run toBreakpoint = runs.get(0);
        assertEquals(ENABLE | USE_SW_BP, toBreakpoint.control(), runs.toString());
        assertEquals(0xD4200000, toBreakpoint.probed().get(BP), "BRK #0 in guest memory while the breakpoint is inserted");
        assertEquals(0xD4200000, toBreakpoint.probed().get(AFTER_STORE));
        assertEquals("brk at 0x" + Long.toHexString(BP), toBreakpoint.exit());
        SimulatedArm64.Run step = runs.get(1);
        assertEquals(SimulatedArm64.NOP, step.probed().get(BP), "the nop back after delete");
        assertEquals(0xD4200000, step.probed().get(AFTER_STORE), "breakpoint 2 stays in (always-inserted)");
        assertTrue(out.contains("$2 = 0x" + Long.toHexString(STORE)), out);
        // After detach the guest runs on from the store over the original bytes into b .
        SimulatedArm64.Run free = guest.machine.awaitParked();
        assertEquals(0, free.control(), "guest debugging off after detach");
        assertEquals(SimulatedArm64.NOP, free.probed().get(AFTER_STORE), "the nop back after detach");
        assertEquals(SimulatedArm64.NOP, guest.word(BP));
        assertEquals(SimulatedArm64.NOP, guest.word(AFTER_STORE));
    }

    @Test
    void multiarchHbreakProgramsABreakpointRegister() throws Exception {
        guest.machine.probe(BP);
        String out = guest.gdb(String.format("hbreak *0x%x", BP), "continue", "p/x $pc", "delete", "detach");

        assertTrue(out.contains(String.format("Hardware assisted breakpoint 1 at 0x%x", BP)), out);
        assertTrue(out.contains(String.format("Breakpoint 1, 0x%016x in ?? ()", BP)), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(BP)), out);

        // DBGBCR0: BAS = 0b1111 (bits 8:5, the whole A64 instruction), PMC = 0b11 (bits 2:1, EL1 and EL0), E (bit 0).
        long bcr = (0b1111L << 5) | (0b11L << 1) | 1;
        byte[] expected = guestDebug(ENABLE | USE_HW, new long[] {bcr}, new long[] {BP}, new long[0], new long[0]);
        List<byte[]> programmed = guestDebugCalls();
        assertArrayEquals(expected, programmed.get(0), "the KVM_SET_GUEST_DEBUG of the continue");
        SimulatedArm64.Run run = guest.cpu().runs.get(0);
        assertEquals("breakpoint at 0x" + Long.toHexString(BP), run.exit());
        assertEquals(SimulatedArm64.NOP, run.probed().get(BP), "no BRK planted for a hardware breakpoint");

        guest.machine.awaitParked();
        assertArrayEquals(new byte[Aarch64GuestDebug.SIZE], last(guestDebugCalls()), "guest debugging off after detach");
    }

    @Test
    void multiarchWatchProgramsAWatchpointRegisterAndReportsTheWrite() throws Exception {
        String out = guest.gdb(String.format("watch *(long *)0x%x", WATCHED_VA), "continue", "p/x $pc",
                String.format("p/x *(long *)0x%x", WATCHED_VA), "delete", "detach");

        assertTrue(out.contains(String.format("Hardware watchpoint 1: *(long *)0x%x", WATCHED_VA)), out);
        assertTrue(out.contains("Old value = " + WATCHED_INITIAL + "\nNew value = " + STORED + "\n"), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(AFTER_STORE)), "stopped after the store\n" + out);
        assertTrue(out.contains("$2 = 0x" + Long.toHexString(STORED)), out);

        // DBGWCR0: BAS = 0xff (bits 12:5, all 8 bytes of the doubleword), LSC = 0b10 (bits 4:3, store),
        // PAC = 0b11 (bits 2:1, EL1 and EL0), E; DBGWVR0 the doubleword's address.
        long wcr = (0xFFL << 5) | (0b10L << 3) | (0b11L << 1) | 1;
        byte[] expected = guestDebug(ENABLE | USE_HW, new long[0], new long[0], new long[] {wcr}, new long[] {WATCHED_VA});
        List<byte[]> programmed = guestDebugCalls();
        assertArrayEquals(expected, programmed.get(0), "the KVM_SET_GUEST_DEBUG of the continue");
        SimulatedArm64.Run hit = guest.cpu().runs.get(0);
        assertEquals("watchpoint at 0x" + Long.toHexString(WATCHED_VA), hit.exit(), guest.cpu().runs.toString());
        assertEquals(STORED, guest.vm.memory().readLong(SimulatedArm64Guest.translate(WATCHED_VA)));
    }

    @Test
    void multiarchStepiMasksDaifOnlyForTheStep() throws Exception {
        String out = guest.gdb("stepi", "p/x $pc", "p/x $cpsr", "detach");

        assertTrue(out.contains("$1 = 0x" + Long.toHexString(CODE + 4)), out);
        assertTrue(out.contains("$2 = 0x5"), "the guest's own DAIF (clear) after the step\n" + out);
        SimulatedArm64.Run step = guest.cpu().runs.get(0);
        assertEquals(ENABLE | SINGLESTEP, step.control());
        assertEquals(PSTATE_EL1H | 0x3c0, step.pstate(), "D, A, I and F masked while the vCPU steps");
        List<Long> pstateWrites = new ArrayList<>();
        for (SimulatedKvm.Call c : guest.kernel.calls(SimulatedKvm.KVM_SET_ONE_REG)) {
            if (c.oneRegId() == PSTATE) {
                pstateWrites.add(c.longValue());
            }
        }
        assertEquals(List.of(PSTATE_EL1H | 0x3c0, PSTATE_EL1H), pstateWrites, "masked for the step, then the guest's bits back");
    }

    @Test
    void multiarchWritesKernelMemoryThroughTtbr1() throws Exception {
        String out = guest.gdb(String.format("set var *(long *)0x%x = 0x77", KERNEL_LONG_VA),
                String.format("p/x *(long *)0x%x", KERNEL_LONG_VA), "detach");

        assertTrue(out.contains("$1 = 0x77"), out);
        assertEquals(0x77, guest.vm.memory().readLong(SimulatedArm64Guest.translate(KERNEL_LONG_VA)), "the page TTBR1 maps");
    }

    /** gdb steps over the breakpoint it stopped at (out, step, in) and runs on to the next one. */
    @Test
    void multiarchContinueFromABreakpointRunsToTheNext() throws Exception {
        continueFromBpToAfterStore("break");
        assertEquals(STORED, guest.vm.memory().readLong(SimulatedArm64Guest.translate(WATCHED_VA)), "the store between them ran");
    }

    /** With the breakpoints left in, the stub steps off the one it reported: original instruction back, one step, BRK again. */
    @Test
    void multiarchStubStepsOffAnInsertedBreakpoint() throws Exception {
        guest.machine.probe(BP);
        String out = guest.gdb("set breakpoint always-inserted on", String.format("break *0x%x", BP),
                String.format("break *0x%x", AFTER_STORE), "continue", "continue", "p/x $pc", "detach");

        assertTrue(out.contains(String.format("Breakpoint 1, 0x%016x in ?? ()", BP)), out);
        assertTrue(out.contains(String.format("Breakpoint 2, 0x%016x in ?? ()", AFTER_STORE)), out);
        List<SimulatedArm64.Run> runs = guest.cpu().runs;
        SimulatedArm64.Run stepOff = runs.get(1);
        assertEquals(BP, stepOff.pc(), runs.toString());
        assertEquals(SimulatedArm64.NOP, stepOff.probed().get(BP), "stepped over the original instruction");
        assertEquals(ENABLE | SINGLESTEP | USE_SW_BP, stepOff.control());
        assertEquals(0xD4200000, runs.get(2).probed().get(BP), "BRK back for the rest of the continue");
        assertEquals("brk at 0x" + Long.toHexString(AFTER_STORE), runs.get(2).exit());
    }

    @Test
    void multiarchContinueFromAHardwareBreakpointRunsToTheNext() throws Exception {
        continueFromBpToAfterStore("hbreak");
    }

    /**
     * gdb puts {@code breakCommand} (break or hbreak) at BP and at AFTER_STORE, continues to the
     * first and from it to the second, where $pc must be.
     */
    private void continueFromBpToAfterStore(String breakCommand) throws Exception {
        String out = guest.gdb(String.format("%s *0x%x", breakCommand, BP), String.format("%s *0x%x", breakCommand, AFTER_STORE),
                "continue", "continue", "p/x $pc", "detach");

        assertTrue(out.contains(String.format("Breakpoint 1, 0x%016x in ?? ()", BP)), out);
        assertTrue(out.contains(String.format("Breakpoint 2, 0x%016x in ?? ()", AFTER_STORE)), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(AFTER_STORE)), out);
    }

    /** 12 bytes from the middle of one doubleword into the next: two watchpoint registers, BAS 0xf0 and 0xff. */
    @Test
    void multiarchWatchOverTwoDoublewordsTakesTwoWatchpointRegisters() throws Exception {
        long start = WATCHED_VA + 4;
        String out = guest.gdb(String.format("watch *(char (*)[12]) 0x%x", start), "continue", "p/x $pc", "delete", "detach");

        assertTrue(out.contains(String.format("Hardware watchpoint 1: *(char (*)[12]) 0x%x", start)), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(AFTER_STORE)), out + guest.cpu().runs);
        long pieceOne = (0xF0L << 5) | (0b10L << 3) | (0b11L << 1) | 1;
        long pieceTwo = (0xFFL << 5) | (0b10L << 3) | (0b11L << 1) | 1;
        byte[] expected = guestDebug(ENABLE | USE_HW, new long[0], new long[0], new long[] {pieceOne, pieceTwo},
                new long[] {WATCHED_VA, WATCHED_VA + 8});
        assertEquals(describe(expected), describe(guestDebugCalls().get(0)), out);
        assertEquals("watchpoint at 0x" + Long.toHexString(WATCHED_VA), guest.cpu().runs.get(0).exit(),
                "the store's bytes 4..7 are watched");
    }

    /**
     * Three watchpoints on a host with four watchpoint registers: all three in the registers, counted
     * with the VM's KVM_CAP_GUEST_DEBUG_HW_WPS before anything ran, and the stop right after the store.
     */
    @Test
    void multiarchThreeWatchpointsUseThreeOfTheHostsFourRegisters() throws Exception {
        long other = KERNEL_VA + 0x300;
        String out = guest.gdb(String.format("watch *(long *)0x%x", other), String.format("watch *(long *)0x%x", other + 8),
                String.format("watch *(long *)0x%x", WATCHED_VA), "continue", "p/x $pc", "delete", "detach");

        assertTrue(out.contains(String.format("Hardware watchpoint 3: *(long *)0x%x", WATCHED_VA)), out);
        assertTrue(out.contains("Old value = " + WATCHED_INITIAL + "\nNew value = " + STORED + "\n"), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(AFTER_STORE)), "stopped right after the store\n" + out + guest.cpu().runs);
        long wcr = (0xFFL << 5) | (0b10L << 3) | (0b11L << 1) | 1;
        // gdb chooses the order of its Z2 packets, and so the registers' order: compare the pairs as a set.
        ByteBuffer dbg = ByteBuffer.wrap(guestDebugCalls().get(0)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(ENABLE | USE_HW, dbg.getInt(0), "control: no single-stepping fallback");
        java.util.Set<String> pairs = new java.util.HashSet<>();
        for (int i = 0; i < 4; i++) {
            pairs.add(String.format("wvr 0x%x wcr 0x%x", dbg.getLong(392 + 8 * i), dbg.getLong(264 + 8 * i)));
        }
        assertEquals(java.util.Set.of(String.format("wvr 0x%x wcr 0x%x", other, wcr), String.format("wvr 0x%x wcr 0x%x", other + 8, wcr),
                String.format("wvr 0x%x wcr 0x%x", WATCHED_VA, wcr), "wvr 0x0 wcr 0x0"), pairs, describe(dbg.array()));
    }

    /**
     * 40 bytes need five watchpoint registers, one more than the host has: the stub single-steps the
     * vCPU and compares, which sees the write after the store; gdb's aarch64 then steps over the
     * access it believes is still to come, and the stub answers that step without running the vCPU,
     * so gdb reports the stop right after the store, as with a watchpoint register.
     */
    @Test
    void multiarchSteppedWatchStopsRightAfterTheWrite() throws Exception {
        String out = guest.gdb(String.format("watch *(char (*)[40]) 0x%x", WATCHED_VA), "continue", "p/x $pc", "delete", "detach");

        assertTrue(out.contains(String.format("Hardware watchpoint 1: *(char (*)[40]) 0x%x", WATCHED_VA)), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(AFTER_STORE)), "stopped right after the store\n" + out + guest.cpu().runs);
        List<SimulatedArm64.Run> steps = new ArrayList<>();
        for (SimulatedArm64.Run run : guest.cpu().runs) {
            if ((run.control() & SINGLESTEP) != 0) {
                steps.add(run);
            }
        }
        assertEquals(List.of(CODE, CODE + 4, CODE + 8, STORE), steps.stream().map(SimulatedArm64.Run::pc).collect(java.util.stream.Collectors.toList()),
                "single steps up to the store and none after it");
        assertEquals(0, steps.get(0).control() & USE_HW, "no watchpoint register");
        assertEquals(STORED, guest.vm.memory().readLong(SimulatedArm64Guest.translate(WATCHED_VA)));
    }

    /**
     * A {@code BRK #7} that gdb did not plant goes back to the guest as the exception it would have
     * taken: ELR_EL1 at the BRK, ESR_EL1 of class BRK64 with the immediate, SPSR_EL1 the old PSTATE,
     * EL1h with DAIF masked, at VBAR_EL1 + 0x200 (current EL with SP_ELx), where gdb's hardware
     * breakpoint stops it.
     */
    @Test
    void multiarchReinjectsTheGuestsOwnBrk() throws Exception {
        long vbar = SimulatedArm64Guest.RAM + 0x3_0000;
        long brk = AFTER_STORE;
        guest.writeWord(brk, 0xD42000E0); // BRK #7
        guest.writeWord(vbar + 0x200, SimulatedArm64.B_SELF);
        guest.cpu().set(KvmSysRegs.id(KvmSysRegs.VBAR_EL1), vbar);
        // A software breakpoint never reached, so that KVM traps every BRK (KVM_GUESTDBG_USE_SW_BP).
        String out = guest.gdb(String.format("break *0x%x", vbar + 0x400), String.format("hbreak *0x%x", vbar + 0x200), "continue",
                "p/x $pc", "p/x $elr_el1", "p/x $esr_el1", "p/x $spsr_el1", "p/x $cpsr", "delete", "detach");

        assertTrue(out.contains(String.format("Breakpoint 2, 0x%016x in ?? ()", vbar + 0x200)), out);
        assertTrue(out.contains("$1 = 0x" + Long.toHexString(vbar + 0x200)), out);
        assertTrue(out.contains("$2 = 0x" + Long.toHexString(brk)), out);
        assertTrue(out.contains("$3 = 0xf2000007"), "EC 0x3c, IL, imm16 7\n" + out);
        assertTrue(out.contains("$4 = 0x5"), out);
        assertTrue(out.contains("$5 = 0x3c5"), out);
    }

    // ---- helpers ----

    /** A register's value as {@code info registers} prints it: name, then the hex value. */
    private static long register(String out, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + " +0x([0-9a-f]+) ").matcher(out);
        assertTrue(m.find(), "no " + name + " in\n" + out);
        return Long.parseUnsignedLong(m.group(1), 16);
    }

    /** Every KVM_SET_GUEST_DEBUG argument the simulated kernel received, in order. */
    private List<byte[]> guestDebugCalls() {
        List<byte[]> out = new ArrayList<>();
        for (SimulatedKvm.Call c : guest.kernel.calls(SimulatedArm64.KVM_SET_GUEST_DEBUG)) {
            out.add(c.bytes());
        }
        assertTrue(!out.isEmpty(), "no KVM_SET_GUEST_DEBUG");
        return out;
    }

    /** A kvm_guest_debug's control and non-zero registers, for a readable failure. */
    private static String describe(byte[] dbg) {
        ByteBuffer b = ByteBuffer.wrap(dbg).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder s = new StringBuilder(String.format("control 0x%x", b.getInt(0)));
        String[] names = {"bcr", "bvr", "wcr", "wvr"};
        for (int r = 0; r < 4; r++) {
            for (int i = 0; i < 16; i++) {
                long v = b.getLong(8 + 128 * r + 8 * i);
                if (v != 0) {
                    s.append(String.format(" dbg_%s[%d]=0x%x", names[r], i, v));
                }
            }
        }
        return s.toString();
    }

    private static byte[] last(List<byte[]> calls) {
        return calls.get(calls.size() - 1);
    }

    /**
     * struct kvm_guest_debug on arm64 (include/uapi/linux/kvm.h, arch/arm64/include/uapi/asm/kvm.h):
     * __u32 control, __u32 pad, then __u64 dbg_bcr[16], dbg_bvr[16], dbg_wcr[16], dbg_wvr[16]: 520 bytes.
     */
    private static byte[] guestDebug(int control, long[] bcr, long[] bvr, long[] wcr, long[] wvr) {
        ByteBuffer b = ByteBuffer.allocate(520).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, control);
        for (int i = 0; i < bcr.length; i++) {
            b.putLong(8 + 8 * i, bcr[i]);
            b.putLong(136 + 8 * i, bvr[i]);
        }
        for (int i = 0; i < wcr.length; i++) {
            b.putLong(264 + 8 * i, wcr[i]);
            b.putLong(392 + 8 * i, wvr[i]);
        }
        return b.array();
    }
}

package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.kvmgdb.arch.x86.kvm.KvmSregs;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/**
 * Breakpoints in an SMP guest whose vCPUs run different address spaces, on /dev/kvm: each vCPU has
 * its own PML4 (CR3 differs) and maps the same user virtual page, {@link #USER} at 512 GiB, onto a
 * different physical page, as two processes on two CPUs do. {@code Z} plants through the page
 * tables of gdb's {@code Hg} thread, as {@code m} reads through them (QEMU's gdbstub inserts through
 * its selected CPU). vCPU 0 also maps the kernel half, which vCPU 1 lacks (KPTI), so the other
 * vCPUs stay the fallback for kernel addresses.
 *
 * <p>vCPU 0 halts ({@code MODE_HALT}); vCPU 1 counts {@code secondary_count[1]} forever.
 */
class KvmTargetBreakpointAddressSpaceTest {
    private static final int ANY = 0, T1 = 1, T2 = 2;
    private static final long KERNEL = 0xFFFF_8000_0000_0000L;
    /** The user virtual pages both vCPUs map, each onto its own physical pages. */
    private static final long USER = 512L << 30;
    private static final long P_RW_US = 0x7, P_RW = 0x3, PS = 0x80;
    /** vCPU 0's tables: PML4, the kernel half (one 2 MiB page at guest-physical 0), the user page table. */
    private static final long PML4_0 = 0x80_0000L, PDPT_KERNEL = 0x80_1000L, PD_KERNEL = 0x80_2000L,
            PDPT_USER_0 = 0x80_3000L, PD_USER_0 = 0x80_4000L, PT_USER_0 = 0x80_5000L;
    /** vCPU 1's tables: PML4 and the user page table, no kernel half. */
    private static final long PML4_1 = 0x80_6000L, PDPT_USER_1 = 0x80_7000L, PD_USER_1 = 0x80_8000L, PT_USER_1 = 0x80_9000L;
    /** What {@link #USER} is on each vCPU; {@code USER + 0x1000} is a quiet page on vCPU 0 and secondary_count's on vCPU 1. */
    private static final long PAGE_0 = 0x80_A000L, PAGE_1 = 0x80_B000L, QUIET_0 = 0x80_C000L;

    @RegisterExtension
    final KvmTargetHarness harness = new KvmTargetHarness();
    private Vm vm;
    private KvmTarget target;

    @BeforeEach
    void bootTwoProcesses() throws Exception {
        vm = harness.boot(2, new ByteArrayOutputStream(), TestGuest.MODE_HALT);
        long bootPml4 = KvmSregs.read(vm.vcpus().get(0)).cr3();
        long countersPage = TestGuest.address("secondary_count") & ~0xFFFL;
        // vCPU 0: the boot identity map, the kernel half, USER -> PAGE_0, USER + 4 KiB -> QUIET_0.
        put(PML4_0, get(bootPml4));
        put(PML4_0 + 256 * 8, PDPT_KERNEL | P_RW);
        put(PDPT_KERNEL, PD_KERNEL | P_RW);
        put(PD_KERNEL, PS | P_RW);
        put(PML4_0 + 8, PDPT_USER_0 | P_RW_US);
        put(PDPT_USER_0, PD_USER_0 | P_RW_US);
        put(PD_USER_0, PT_USER_0 | P_RW_US);
        put(PT_USER_0, PAGE_0 | P_RW_US);
        put(PT_USER_0 + 8, QUIET_0 | P_RW_US);
        // vCPU 1: the boot identity map, USER -> PAGE_1, USER + 4 KiB -> the page of secondary_count.
        put(PML4_1, get(bootPml4));
        put(PML4_1 + 8, PDPT_USER_1 | P_RW_US);
        put(PDPT_USER_1, PD_USER_1 | P_RW_US);
        put(PD_USER_1, PT_USER_1 | P_RW_US);
        put(PT_USER_1, PAGE_1 | P_RW_US);
        put(PT_USER_1 + 8, countersPage | P_RW_US);
        fill(PAGE_0, (byte) 0x11);
        fill(PAGE_1, (byte) 0x22);
        KvmSregs.read(vm.vcpus().get(0)).set(KvmSregs.CR3, PML4_0).write(vm.vcpus().get(0));
        KvmSregs.read(vm.vcpus().get(1)).set(KvmSregs.CR3, PML4_1).write(vm.vcpus().get(1));
        target = harness.own(new KvmTarget(vm, X86ForTests.provider(), () -> false)); // watches are stepped, whatever the host
        target.attach();
    }

    private long get(long physical) {
        return vm.memory().readLong(physical);
    }

    private void put(long physical, long value) {
        vm.memory().writeLong(physical, value);
    }

    private void fill(long physical, byte value) {
        byte[] page = new byte[4096];
        Arrays.fill(page, value);
        vm.memory().write(physical, page, 0, page.length);
    }

    private byte raw(long physical) {
        return harness.raw(physical, 1)[0];
    }

    private byte read(int thread, long address) throws TargetException {
        byte[] b = new byte[1];
        assertEquals(1, target.readMemory(thread, address, b, 1));
        return b[0];
    }

    @Test
    void z0WithHgOnVcpu1PlantsInVcpu1sPage() throws Exception {
        assertEquals((byte) 0x11, read(T1, USER + 0x10), "the fixture: vCPU 0 sees its page");
        assertEquals((byte) 0x22, read(T2, USER + 0x10), "the fixture: vCPU 1 sees its own");

        target.insertBreakpoint(T2, BreakpointType.SOFTWARE, USER + 0x10, 1);
        assertEquals((byte) 0xCC, raw(PAGE_1 + 0x10), "the int3 is in the page vCPU 1 runs");
        assertEquals((byte) 0x11, raw(PAGE_0 + 0x10), "vCPU 0's process is left alone");
        assertEquals((byte) 0x22, read(T2, USER + 0x10), "m never shows our int3");

        target.removeBreakpoint(BreakpointType.SOFTWARE, USER + 0x10, 1);
        assertEquals((byte) 0x22, raw(PAGE_1 + 0x10), "z puts back the byte where the int3 was");
        assertEquals((byte) 0x11, raw(PAGE_0 + 0x10));
    }

    @Test
    void z0WithoutAThreadPlantsThroughVcpu0AsBefore() throws Exception {
        target.insertBreakpoint(ANY, BreakpointType.SOFTWARE, USER + 0x20, 1);
        assertEquals((byte) 0xCC, raw(PAGE_0 + 0x20));
        assertEquals((byte) 0x22, raw(PAGE_1 + 0x20));
        target.removeBreakpoint(BreakpointType.SOFTWARE, USER + 0x20, 1);
        assertEquals((byte) 0x11, raw(PAGE_0 + 0x20));
    }

    @Test
    void aKernelAddressHgsVcpuLacksIsPlantedThroughAnotherVcpu() throws Exception {
        long add = TestGuest.address("add");
        byte original = raw(add);
        target.insertBreakpoint(T2, BreakpointType.SOFTWARE, KERNEL + add, 1);
        assertEquals((byte) 0xCC, raw(add), "vCPU 1 lacks the kernel half; vCPU 0's tables have it");
        target.removeBreakpoint(BreakpointType.SOFTWARE, KERNEL + add, 1);
        assertEquals(original, raw(add));
    }

    @Test
    void aSteppedWatchpointWithHgOnVcpu1WatchesVcpu1sPage() throws Exception {
        long counter = USER + 0x1000 + (TestGuest.address("secondary_count") & 0xFFF) + 8; // secondary_count[1]
        byte[] before = new byte[8];
        assertEquals(8, target.readMemory(T2, counter, before, 8));
        target.insertBreakpoint(T2, BreakpointType.WRITE_WATCHPOINT, counter, 8);

        // Through vCPU 0's tables the watch would sit on a page no one writes, and never fire.
        StopEvent event = harness.continueAll();
        assertEquals(new StopEvent.Signal(T2, StopEvent.SIGTRAP, new StopEvent.Watch(BreakpointType.WRITE_WATCHPOINT, counter)), event);
        byte[] after = new byte[8];
        assertEquals(8, target.readMemory(T2, counter, after, 8));
        assertTrue(TestGuest.le64(after, 0) != TestGuest.le64(before, 0), "vCPU 1 counted");
        assertArrayEquals(new byte[8], harness.raw(QUIET_0, 8), "vCPU 0's page at that address was never written");
    }
}

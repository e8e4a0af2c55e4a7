package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.arch.x86.kvm.KvmSregs;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;
import org.kvmgdb.core.target.TargetInspection;
import org.kvmgdb.core.target.TargetInspection.VcpuCounters;

/**
 * Two vCPUs of the real test guest on /dev/kvm with different page tables, as a kernel with KPTI
 * has them: vCPU 0 switched to its own PML4, which adds a kernel-half mapping (0xffff800000000000
 * onto guest-physical 0, 2 MiB pages) and a lower-half one at 512 GiB; vCPU 1 kept the boot tables,
 * which have neither. Also physical memory access and the inspection the monitor uses.
 */
class KvmTargetAddressSpaceTest {
    private static final int T1 = 1, T2 = 2;
    private static final long KERNEL = 0xFFFF_8000_0000_0000L;
    private static final long HIGH_USER = 512L << 30;
    /** vCPU 0's PML4 and its tables, in RAM the guest does not use. */
    private static final long PML4 = 0x80_0000L, PDPT_KERNEL = 0x80_1000L, PD_KERNEL = 0x80_2000L,
            PDPT_USER = 0x80_3000L, PD_USER = 0x80_4000L;
    private static final long P_RW = 0x3, PS = 0x80;

    @RegisterExtension
    final KvmTargetHarness harness = new KvmTargetHarness();
    private Vm vm;
    private KvmTarget target;

    @BeforeEach
    void bootWithTwoAddressSpaces() throws Exception {
        vm = harness.boot(2, new ByteArrayOutputStream(), TestGuest.MODE_RUN);
        PhysicalMemoryView ram = new PhysicalMemoryView(vm);
        KvmSregs sregs = KvmSregs.read(vm.vcpus().get(0));
        long bootPml4 = sregs.cr3();
        ram.putLong(PML4, ram.getLong(bootPml4));                       // PML4[0]: the boot identity map
        ram.putLong(PML4 + 256 * 8, PDPT_KERNEL | P_RW);                 // PML4[256]: the kernel half
        ram.putLong(PDPT_KERNEL, PD_KERNEL | P_RW);
        ram.putLong(PD_KERNEL, PS | P_RW);                               // 2 MiB at guest-physical 0
        ram.putLong(PML4 + 8, PDPT_USER | P_RW | 0x4);                   // PML4[1]: 512 GiB, user
        ram.putLong(PDPT_USER, PD_USER | P_RW | 0x4);
        ram.putLong(PD_USER, PS | P_RW | 0x4);
        sregs.set(KvmSregs.CR3, PML4).write(vm.vcpus().get(0));
        target = harness.own(new KvmTarget(vm, X86ForTests.provider()));
        target.attach();
    }

    /** Guest RAM as longs, for writing page tables. */
    private record PhysicalMemoryView(Vm vm) {
        long getLong(long at) {
            return vm.memory().readLong(at);
        }

        void putLong(long at, long value) {
            vm.memory().writeLong(at, value);
        }
    }

    private byte[] read(int thread, long address, int length) throws TargetException {
        byte[] buffer = new byte[length];
        int n = target.readMemory(thread, address, buffer, length);
        byte[] read = new byte[n];
        System.arraycopy(buffer, 0, read, 0, n);
        return read;
    }

    private byte[] raw(long address, int length) {
        return harness.raw(address, length);
    }

    @Test
    void eachVcpuReadsThroughItsOwnPageTables() throws Exception {
        long start = TestGuest.address("_start");
        assertArrayEquals(raw(start, 16), read(T1, KERNEL + start, 16), "vCPU 0 maps the kernel half itself");
        assertArrayEquals(raw(start, 16), read(T1, HIGH_USER + start, 16));
        assertArrayEquals(raw(start, 16), read(T2, start, 16), "both identity-map low memory");
    }

    @Test
    void aKernelAddressTheSelectedVcpuLacksIsReadThroughAnotherVcpu() throws Exception {
        long start = TestGuest.address("_start");
        assertArrayEquals(raw(start, 16), read(T2, KERNEL + start, 16), "vCPU 1's tables lack it; vCPU 0's have it");
        // Writes take the same way.
        long counter = TestGuest.address("global_counter");
        target.writeMemory(T2, KERNEL + counter, new byte[] {42, 0, 0, 0});
        assertArrayEquals(new byte[] {42, 0, 0, 0}, raw(counter, 4));
    }

    @Test
    void aUserAddressIsNotTakenFromAnotherVcpu() throws Exception {
        assertEquals(0, read(T2, HIGH_USER + 0x100000, 16).length, "vCPU 0's user mapping is not vCPU 1's memory");
        assertThrows(TargetException.class, () -> target.writeMemory(T2, HIGH_USER + 0x100000, new byte[] {1}));
    }

    @Test
    void physicalMemoryIsRamAsItIsWithoutOurBreakpoints() throws Exception {
        long add = TestGuest.address("add");
        byte original = raw(add, 1)[0];
        target.insertBreakpoint(BreakpointType.SOFTWARE, KERNEL + add, 1); // planted through vCPU 0's kernel mapping
        assertEquals((byte) 0xCC, raw(add, 1)[0]);
        byte[] b = new byte[4];
        assertEquals(4, target.readPhysicalMemory(add, b, 4));
        assertEquals(original, b[0], "m in physical mode never shows our int3");
        target.writePhysicalMemory(add, new byte[] {(byte) 0x90});
        assertEquals((byte) 0xCC, raw(add, 1)[0], "the breakpoint stays");
        target.removeBreakpoint(BreakpointType.SOFTWARE, KERNEL + add, 1);
        assertEquals((byte) 0x90, raw(add, 1)[0], "the written byte is what the breakpoint leaves behind");

        long ramSize = vm.memory().size();
        byte[] tail = new byte[8];
        assertEquals(3, target.readPhysicalMemory(ramSize - 3, tail, 8), "a read past RAM returns the bytes before it");
        assertEquals(0, target.readPhysicalMemory(ramSize, tail, 8));
        assertThrows(TargetException.class, () -> target.writePhysicalMemory(ramSize - 1, new byte[2]));
    }

    private TargetInspection inspection() {
        return target.inspection().orElseThrow();
    }

    private String runOn(int thread, String command, String... arguments) throws TargetException {
        MonitorCommand c = inspection().architectureCommands().stream().filter(x -> x.name().equals(command)).findFirst().orElseThrow();
        return inspection().run(c, thread, List.of(arguments));
    }

    @Test
    void infoMemAndInfoRegsShowEachVcpusOwnTables() throws Exception {
        String mem1 = runOn(T1, "info mem", "0xffff800000000000", "0xffff800000400000");
        assertTrue(Pattern.compile("^0xffff800000000000-0xffff800000200000 -> 0x0000000000000000  2M    rw kernel exec$",
                Pattern.MULTILINE).matcher(mem1).find(), mem1);
        assertTrue(runOn(T2, "info mem", "0xffff800000000000", "0xffff800000400000").contains("nothing is mapped there"));
        assertTrue(runOn(T1, "info regs").contains("page tables at 0x800000"));
        assertTrue(runOn(T2, "info regs").contains("page tables at 0x2000"));
    }

    @Test
    void vcpuStatesAndExitCounters() throws Exception {
        long start = TestGuest.address("_start");
        assertEquals(List.of(new TargetInspection.VcpuStatus(T1, "vCPU 0", TargetInspection.State.STOPPED, java.util.OptionalLong.of(start)),
                new TargetInspection.VcpuStatus(T2, "vCPU 1", TargetInspection.State.STOPPED, java.util.OptionalLong.of(start))),
                inspection().vcpus());
        target.insertBreakpoint(BreakpointType.SOFTWARE, TestGuest.address("add"), 1);
        assertEquals(new StopEvent.Signal(T1, StopEvent.SIGTRAP, new StopEvent.SoftwareBreak()), harness.continueAll());
        VcpuCounters vcpu0 = inspection().counters().get(0);
        // The greeting went out on COM1 before add(): one LSR read and one THR write per character.
        assertTrue(vcpu0.exitsByReason().getOrDefault("KVM_EXIT_IO", 0L) >= 2 * TestGuest.GREETING.length(), vcpu0.toString());
        assertTrue(vcpu0.nanosInGuest() > 0);
        assertEquals("vCPU 1", inspection().counters().get(1).name());
    }
}

package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.kvm.KvmXsave;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/**
 * {@link KvmTarget} debugging the real test guest on /dev/kvm with the real x86-64 plugin. On a
 * PVM host (KVM-HERE.md) the software breakpoint hits arrive as KVM_EXIT_INTERNAL_ERROR at the
 * planted 0xCC; on hardware KVM as KVM_EXIT_DEBUG with #BP: the same tests cover both.
 */
class KvmTargetTest {
    private static final int T1 = 1, T2 = 2;
    private static final StopEvent.Plain PLAIN = new StopEvent.Plain();
    @RegisterExtension
    final KvmTargetHarness harness = new KvmTargetHarness();

    private final ByteArrayOutputStream serial = new ByteArrayOutputStream();
    private Vm vm;
    private KvmTarget target;

    /** The -S case: the VM is booted but never started before the debugger attaches. */
    private void attachBeforeFirstInstruction(int vcpus, int mode) throws Exception {
        vm = harness.boot(vcpus, serial, mode);
        target = harness.own(new KvmTarget(vm, X86ForTests.provider()));
        target.attach();
    }

    private static StopEvent.Signal trap(int thread, StopEvent.Reason reason) {
        return new StopEvent.Signal(thread, StopEvent.SIGTRAP, reason);
    }

    @Test
    void withDashSEveryVcpuWaitsAtTheEntryPoint() throws Exception {
        attachBeforeFirstInstruction(2, TestGuest.MODE_RUN);

        assertEquals(trap(T1, PLAIN), target.currentStop());
        assertEquals(List.of(T1, T2), target.threads());
        assertEquals(TestGuest.address("_start"), harness.rip(T1));
        assertEquals(TestGuest.address("_start"), harness.rip(T2));
        assertEquals(1, harness.register(T2, "rdi"), "vCPU 1 is told its index");
        assertEquals("vCPU 1", target.threadName(T2));
        assertEquals("", serial.toString(StandardCharsets.US_ASCII), "nothing ran yet");
    }

    @Test
    void aStepExecutesExactlyOneInstruction() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        long entry = TestGuest.address("_start");
        assertEquals(0x55, harness.read(entry, 1)[0] & 0xFF, "_start begins with push %rbp (gcc -O0)");
        long rsp = harness.register(T1, "rsp");

        assertEquals(trap(T1, PLAIN), harness.step(T1));

        assertEquals(entry + 1, harness.rip(T1));
        assertEquals(rsp - 8, harness.register(T1, "rsp"), "the push happened");
        assertEquals(trap(T1, PLAIN), target.currentStop());
    }

    @Test
    void controlRegistersAreTheBootStateAndSystemAndVectorWritesReachTheGuest() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        // X86BootState: PG|AM|WP|NE|ET|MP|PE, the PML4 at 0x2000, PAE|OSFXSR|OSXMMEXCPT, LME|LMA.
        assertEquals(0x8005_0033L, harness.register(T1, "cr0"));
        assertEquals(0x2000, harness.register(T1, "cr3"));
        assertEquals(0x620, harness.register(T1, "cr4"));
        assertEquals(0x500, harness.register(T1, "efer"));

        byte[] xmm1 = bytes(0x10, 16);
        byte[] ymm1h = bytes(0x40, 16);
        setRegister(T1, "cr2", 0xDEAD_0000L);
        setRegister(T1, "cr8", 5);
        setRegister(T1, "k_gs_base", 0xFFFF_8880_0000_1000L);
        setRegister(T1, "fs_base", 0x7000);
        target.writeRegister(T1, regnum("xmm1"), xmm1);
        target.writeRegister(T1, regnum("ymm1h"), ymm1h);

        // The vCPU runs an instruction: KVM loads the state into the CPU and saves it back.
        assertEquals(trap(T1, PLAIN), harness.step(T1));

        assertEquals(0xDEAD_0000L, harness.register(T1, "cr2"));
        assertEquals(5, harness.register(T1, "cr8"), "kvm_run.cr8 was set too: without an in-kernel APIC KVM_RUN loads CR8 from it");
        assertEquals(0xFFFF_8880_0000_1000L, harness.register(T1, "k_gs_base"));
        assertEquals(0x7000, harness.register(T1, "fs_base"));
        assertArrayEquals(xmm1, target.readRegister(T1, regnum("xmm1")));
        assertArrayEquals(ymm1h, target.readRegister(T1, regnum("ymm1h")));
        // KVM's own XSAVE view: the CPU saved SSE and AVX state as in use (XSTATE_BV bits 1 and 2),
        // with the values gdb wrote; a state still marked initial would have been zeros for the guest.
        KvmXsave xsave = KvmXsave.read(vm.vcpus().get(0));
        assertEquals(KvmXsave.XFEATURE_MASK_SSE | KvmXsave.XFEATURE_MASK_YMM,
                xsave.xstateBv() & (KvmXsave.XFEATURE_MASK_SSE | KvmXsave.XFEATURE_MASK_YMM));
        byte[] inXsave = new byte[16];
        xsave.getBytes(160 + 16, inXsave, 0, 16); // fxregs_state.xmm_space[1]
        assertArrayEquals(xmm1, inXsave);
        xsave.getBytes(KvmXsave.ymmHigh(1), inXsave, 0, 16);
        assertArrayEquals(ymm1h, inXsave);
    }

    @Test
    void aControlRegisterValueKvmRefusesIsAnErrorAndChangesNothing() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        // Long mode with paging off is not a state KVM_SET_SREGS accepts (EFER.LMA without CR0.PG).
        TargetException e = assertThrows(TargetException.class, () -> setRegister(T1, "cr0", 0x0005_0033L));
        assertEquals(TargetException.EIO, e.errno());
        assertEquals(0x8005_0033L, harness.register(T1, "cr0"));
        assertEquals(trap(T1, PLAIN), harness.step(T1), "the vCPU still runs");
    }

    private int regnum(String name) {
        return target.description().register(name).orElseThrow().regnum();
    }

    private void setRegister(int thread, String name, long value) throws TargetException {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        target.writeRegister(thread, regnum(name), b);
    }

    private static byte[] bytes(int first, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (first + i);
        }
        return b;
    }

    @Test
    void aSoftwareBreakpointStopsEveryCallAndTheGuestExitsOnceItIsRemoved() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        long add = TestGuest.address("add");
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);

        assertEquals(trap(T1, new StopEvent.SoftwareBreak()), harness.continueAll());
        assertEquals(add, harness.rip(T1));
        assertEquals(1, harness.register(T1, "rdi"), "first call: add(1, 10)");

        // Continuing from the breakpoint steps off it and puts it back: the next call stops too.
        assertEquals(trap(T1, new StopEvent.SoftwareBreak()), harness.continueAll());
        assertEquals(add, harness.rip(T1));
        assertEquals(2, harness.register(T1, "rdi"), "second call: add(2, 20)");

        target.removeBreakpoint(BreakpointType.SOFTWARE, add, 1);
        target.removeBreakpoint(BreakpointType.SOFTWARE, add, 1); // idempotent
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), harness.continueAll());
        assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), target.currentStop());
    }

    /**
     * The x86 plugin with a software breakpoint that behaves as AArch64's does on the two points the
     * core must honour: it refuses addresses off a 4-byte boundary ({@link SoftwareBreakpoint#accepts})
     * and asks the VM to sync the instruction cache after each patch.
     */
    private static final class AlignedCacheSyncing implements ArchitectureProvider {
        final ArchitectureProvider real = X86ForTests.provider();

        @Override public String id() { return real.id(); }
        @Override public int elfMachine() { return real.elfMachine(); }
        @Override public TargetDescription targetDescription() { return real.targetDescription(); }
        @Override public Optional<RegisterAccess> registerAccess() { return real.registerAccess(); }
        @Override public Optional<GuestDebug> guestDebug() { return real.guestDebug(); }
        @Override public Optional<StopClassifier> stopClassifier() { return real.stopClassifier(); }
        @Override public Optional<AddressTranslator> addressTranslator() { return real.addressTranslator(); }
        @Override public Optional<BootState> bootState() { return real.bootState(); }

        @Override
        public SoftwareBreakpoint softwareBreakpoint() {
            SoftwareBreakpoint r = real.softwareBreakpoint();
            return new SoftwareBreakpoint() {
                @Override public byte[] instruction(int kind) { return r.instruction(kind); }
                @Override public boolean accepts(long address, int kind) { return (address & 3) == 0; }

                @Override
                public void codePatched(org.kvmgdb.api.hypervisor.VmHandle handle, long physicalAddress, int length) {
                    handle.syncInstructionCache(physicalAddress, length);
                }
            };
        }
    }

    @Test
    void aPatchAsksTheVmToSyncTheInstructionCacheAndAMisalignedBreakpointIsRefused() throws Exception {
        vm = harness.boot(1, serial, TestGuest.MODE_RUN);
        target = harness.own(new KvmTarget(vm, new AlignedCacheSyncing()));
        target.attach();
        long aligned = TestGuest.address("add") & ~3L;

        target.insertBreakpoint(BreakpointType.SOFTWARE, aligned, 1);
        // The guest is identity-mapped: the patched physical byte is the breakpoint's address.
        assertArrayEquals(new long[] {1, aligned, 1}, vm.instructionCacheSyncs());
        target.removeBreakpoint(BreakpointType.SOFTWARE, aligned, 1);
        assertArrayEquals(new long[] {2, aligned, 1}, vm.instructionCacheSyncs());

        byte[] before = harness.raw(aligned + 1, 1);
        TargetException refused = assertThrows(TargetException.class,
                () -> target.insertBreakpoint(BreakpointType.SOFTWARE, aligned + 1, 1));
        assertEquals(TargetException.EINVAL, refused.errno());
        assertArrayEquals(before, harness.raw(aligned + 1, 1), "nothing planted");
        assertEquals(2, vm.instructionCacheSyncs()[0]);
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), harness.continueAll());
    }

    /**
     * The x86 plugin, except that once {@code failPc} is set, reading a pc on a vCPU thread (where
     * KvmTarget handles stops) throws as a failed KVM_GET_REGS would.
     */
    private static final class FailingPc implements ArchitectureProvider {
        final ArchitectureProvider real = X86ForTests.provider();
        final Thread testThread = Thread.currentThread();
        volatile boolean failPc;

        @Override public String id() { return real.id(); }
        @Override public int elfMachine() { return real.elfMachine(); }
        @Override public TargetDescription targetDescription() { return real.targetDescription(); }
        @Override public SoftwareBreakpoint softwareBreakpoint() { return real.softwareBreakpoint(); }
        @Override public Optional<GuestDebug> guestDebug() { return real.guestDebug(); }
        @Override public Optional<StopClassifier> stopClassifier() { return real.stopClassifier(); }
        @Override public Optional<AddressTranslator> addressTranslator() { return real.addressTranslator(); }
        @Override public Optional<BootState> bootState() { return real.bootState(); }

        @Override
        public Optional<RegisterAccess> registerAccess() {
            RegisterAccess r = real.registerAccess().orElseThrow();
            return Optional.of(new RegisterAccess() {
                @Override public byte[] readAll(VcpuHandle vcpu) { return r.readAll(vcpu); }
                @Override public void writeAll(VcpuHandle vcpu, byte[] g) { r.writeAll(vcpu, g); }
                @Override public void setProgramCounter(VcpuHandle vcpu, long pc) { r.setProgramCounter(vcpu, pc); }
                @Override public byte[] readRegister(VcpuHandle vcpu, TargetDescription layout, int regnum) {
                    return r.readRegister(vcpu, layout, regnum);
                }

                @Override
                public long programCounter(VcpuHandle vcpu) {
                    if (failPc && Thread.currentThread() != testThread) {
                        throw new HypervisorException("KVM_GET_REGS failed (test)", 5);
                    }
                    return r.programCounter(vcpu);
                }
            });
        }
    }

    private FailingPc attachWithFailingPc() throws Exception {
        vm = harness.boot(1, serial, TestGuest.MODE_RUN);
        FailingPc arch = new FailingPc();
        target = harness.own(new KvmTarget(vm, arch));
        target.attach();
        return arch;
    }

    @Test
    void aBreakpointHitWhosePcCannotBeReadIsStillReported() throws Exception {
        FailingPc arch = attachWithFailingPc();
        long add = TestGuest.address("add");
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);
        arch.failPc = true;

        assertEquals(trap(T1, new StopEvent.SoftwareBreak()), harness.continueAll());

        arch.failPc = false;
        assertEquals(add, harness.rip(T1));
        target.removeBreakpoint(BreakpointType.SOFTWARE, add, 1);
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), harness.continueAll(), "the session goes on");
    }

    @Test
    void aStepOffThatFailsEndsTheRoundWithAStopInsteadOfHanging() throws Exception {
        FailingPc arch = attachWithFailingPc();
        long add = TestGuest.address("add");
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);
        assertEquals(trap(T1, new StopEvent.SoftwareBreak()), harness.continueAll());
        arch.failPc = true;

        // Stepping off for a range step reads the pc on the vCPU thread: it fails.
        ResumeRequest.RangeStep range = new ResumeRequest.RangeStep(add, add + TestGuest.size("add"));
        assertEquals(trap(T1, PLAIN), harness.resume(new ResumeRequest(Map.of(T1, range), null)));

        arch.failPc = false;
        assertEquals(add + 1, harness.rip(T1), "the step off happened");
        assertEquals((byte) 0xCC, harness.raw(add, 1)[0], "the breakpoint is back");
        target.removeBreakpoint(BreakpointType.SOFTWARE, add, 1);
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), harness.continueAll(), "the session goes on");
    }

    @Test
    void steppingOffABreakpointExecutesTheOriginalInstructionAndKeepsTheBreakpoint() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        long add = TestGuest.address("add");
        byte original = harness.raw(add, 1)[0];
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1); // idempotent: still one breakpoint
        assertEquals(trap(T1, new StopEvent.SoftwareBreak()), harness.continueAll());
        long rsp = harness.register(T1, "rsp");

        assertEquals(trap(T1, PLAIN), harness.step(T1));

        assertEquals(add + 1, harness.rip(T1), "one instruction (push %rbp) further");
        assertEquals(rsp - 8, harness.register(T1, "rsp"));
        assertEquals((byte) 0xCC, harness.raw(add, 1)[0], "the int3 is back in guest memory");
        assertEquals(original, harness.read(add, 1)[0], "and still hidden from memory reads");

        target.removeBreakpoint(BreakpointType.SOFTWARE, add, 1);
        assertEquals(original, harness.raw(add, 1)[0]);
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), harness.continueAll());
    }

    @Test
    void aRangeStepRunsUntilThePcLeavesTheRange() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        long add = TestGuest.address("add");
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);
        assertEquals(trap(T1, new StopEvent.SoftwareBreak()), harness.continueAll());
        long returnAddress = TestGuest.le64(harness.read(harness.register(T1, "rsp"), 8), 0);

        // vCont;r over all of add(), starting on its breakpoint: steps off it, then on to the return.
        ResumeRequest.RangeStep range = new ResumeRequest.RangeStep(add, add + TestGuest.size("add"));
        assertEquals(trap(T1, PLAIN), harness.resume(new ResumeRequest(Map.of(T1, range), null)));

        assertEquals(returnAddress, harness.rip(T1), "stopped at the first instruction outside add(): the return address");
        assertEquals(11, harness.register(T1, "rax"), "add(1, 10) returned");
    }

    @Test
    void aHardwareBreakpointStopsAtTheFunctionAndContinuesPastIt() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        assertTrue(target.supports(BreakpointType.HARDWARE));
        long scale = TestGuest.address("scale");
        byte original = harness.raw(scale, 1)[0];
        target.insertBreakpoint(BreakpointType.HARDWARE, scale, 1);

        assertEquals(trap(T1, new StopEvent.HardwareBreak()), harness.continueAll());
        assertEquals(scale, harness.rip(T1));
        assertEquals(original, harness.raw(scale, 1)[0], "a hardware breakpoint does not touch memory");

        // Still inserted: continuing must get past it (scale runs once) and let the guest end.
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), harness.continueAll());
    }

    @Test
    void hardwareBreakpointSlotsRunOut() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        long base = TestGuest.address("add");
        for (int i = 0; i < 4; i++) {
            target.insertBreakpoint(BreakpointType.HARDWARE, base + i, 1);
        }
        TargetException full = assertThrows(TargetException.class, () -> target.insertBreakpoint(BreakpointType.HARDWARE, base + 4, 1));
        assertEquals(TargetException.ENOSPC, full.errno());
        target.removeBreakpoint(BreakpointType.HARDWARE, base, 1);
        target.insertBreakpoint(BreakpointType.HARDWARE, base + 4, 1);
    }

    @Test
    void interruptStopsASpinningGuestWhichThenRunsOnToItsEnd() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_SPIN);
        CompletableFuture<StopEvent> stop = new CompletableFuture<>();
        target.resume(ResumeRequest.all(new ResumeRequest.Continue(0)), stop::complete);
        long counter = TestGuest.address("spin_count");
        while (TestGuest.le64(harness.raw(counter, 8), 0) < 100) {
            Thread.onSpinWait(); // the guest is counting
        }
        assertFalse(stop.isDone());

        target.interrupt();

        assertEquals(new StopEvent.Signal(T1, StopEvent.SIGINT, PLAIN), stop.get(60, TimeUnit.SECONDS));
        long spin = TestGuest.address("spin");
        long pc = harness.rip(T1);
        assertTrue(pc >= spin && pc < spin + TestGuest.size("spin"), String.format("pc 0x%x is in spin()", pc));
        long stopped = TestGuest.le64(harness.read(counter, 8), 0);
        assertEquals(stopped, TestGuest.le64(harness.read(counter, 8), 0));

        target.writeMemory(T1, TestGuest.address("stop_spinning"), TestGuest.le32(1));
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), harness.continueAll());
    }

    @Test
    void interruptStopsAHaltedGuestAndAStepThereEndsAtOnce() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_HALT);
        CompletableFuture<StopEvent> stop = new CompletableFuture<>();
        target.resume(ResumeRequest.all(new ResumeRequest.Continue(0)), stop::complete);
        VcpuRunner runner = vm.runners().get(0);
        while (!halted(runner)) {
            Thread.onSpinWait();
        }

        target.interrupt();

        assertEquals(new StopEvent.Signal(T1, StopEvent.SIGINT, PLAIN), stop.get(60, TimeUnit.SECONDS));
        long halt = TestGuest.address("halt_forever");
        long pc = harness.rip(T1);
        assertTrue(pc > halt && pc < halt + TestGuest.size("halt_forever"), String.format("pc 0x%x is in halt_forever()", pc));
        assertTrue(target.threadExtraInfo(T1).startsWith("halted at "), target.threadExtraInfo(T1));
        // A halted vCPU has no instruction to execute: the step reports at once, the pc where it was.
        assertEquals(trap(T1, PLAIN), harness.step(T1));
        assertEquals(pc, harness.rip(T1));
    }

    private boolean halted(VcpuRunner runner) {
        synchronized (vm.lock) {
            return runner.halted();
        }
    }

    @Test
    void detachRemovesBreakpointsAndTheGuestFinishesWithItsOwnStatus() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        long add = TestGuest.address("add");
        byte original = harness.raw(add, 1)[0];
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);
        target.insertBreakpoint(BreakpointType.HARDWARE, TestGuest.address("scale"), 1);
        assertEquals(trap(T1, new StopEvent.SoftwareBreak()), harness.continueAll());

        target.detach();

        VmExit exit = vm.awaitExit();
        assertEquals(VmExit.Kind.EXIT_PORT, exit.kind(), exit.description());
        assertEquals(TestGuest.EXIT_STATUS, exit.status());
        assertEquals(original, harness.raw(add, 1)[0]);
        assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void aNewDebuggerCanAttachToAGuestThatRunsFreely() throws Exception {
        vm = harness.boot(1, serial, TestGuest.MODE_SPIN);
        vm.start();
        long counter = TestGuest.address("spin_count");
        while (TestGuest.le64(harness.raw(counter, 8), 0) < 100) {
            Thread.onSpinWait();
        }
        target = harness.own(new KvmTarget(vm, X86ForTests.provider()));

        target.attach();

        assertEquals(trap(T1, PLAIN), target.currentStop());
        long stopped = TestGuest.le64(harness.read(counter, 8), 0);
        assertEquals(stopped, TestGuest.le64(harness.raw(counter, 8), 0), "stopped means stopped");
        target.writeMemory(T1, TestGuest.address("stop_spinning"), TestGuest.le32(1));
        target.detach();
        assertEquals(TestGuest.EXIT_STATUS, vm.awaitExit().status());
    }

    @Test
    void memoryReadsNeverShowInsertedBreakpointsAndWritesUnderThemAreKept() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        long add = TestGuest.address("add");
        byte[] before = harness.read(add - 2, 8);
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);

        assertArrayEquals(before, harness.read(add - 2, 8));
        assertEquals((byte) 0xCC, harness.raw(add, 1)[0]);

        target.writeMemory(T1, add, new byte[] {(byte) 0x90});
        assertEquals((byte) 0x90, harness.read(add, 1)[0], "the debugger sees what it wrote");
        assertEquals((byte) 0xCC, harness.raw(add, 1)[0], "the breakpoint stays planted");

        target.removeBreakpoint(BreakpointType.SOFTWARE, add, 1);
        assertEquals((byte) 0x90, harness.raw(add, 1)[0], "removing it leaves the written byte");
    }

    @Test
    void aReadRunningIntoUnmappedMemoryReturnsTheBytesBeforeIt() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        byte[] buffer = new byte[16];

        assertEquals(4, target.readMemory(T1, TestGuest.RAM - 4, buffer, 16), "RAM ends, and the identity map with it");
        assertEquals(0, target.readMemory(T1, TestGuest.RAM + 0x1000, buffer, 16));
        assertEquals(0, target.readMemory(T1, 0x8000_0000_0000_0000L, buffer, 16), "not canonical");
        TargetException e = assertThrows(TargetException.class, () -> target.writeMemory(T1, TestGuest.RAM - 2, new byte[4]));
        assertEquals(TargetException.EFAULT, e.errno());
        assertArrayEquals(new byte[2], harness.raw(TestGuest.RAM - 2, 2), "a failed write changes nothing");
        assertThrows(TargetException.class, () -> target.insertBreakpoint(BreakpointType.SOFTWARE, TestGuest.RAM + 16, 1));
    }

    @Test
    void registersWrittenAreReadBackAndMovingThePcMovesTheGuest() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        int rax = target.description().register("rax").orElseThrow().regnum();
        byte[] value = {1, 2, 3, 4, 5, 6, 7, 8};
        target.writeRegister(T1, rax, value);
        assertArrayEquals(value, target.readRegister(T1, rax));

        byte[] all = target.readRegisters(T1);
        assertEquals(target.description().gPacketSize(), all.length);
        int rip = target.description().register("rip").orElseThrow().regnum();
        long haltForever = TestGuest.address("halt_forever");
        for (int i = 0; i < 8; i++) {
            all[target.description().offsetOf(rip) + i] = (byte) (haltForever >>> (8 * i));
        }
        target.writeRegisters(T1, all);
        assertEquals(haltForever, harness.rip(T1));
        assertEquals(trap(T1, PLAIN), harness.step(T1));
        assertTrue(harness.rip(T1) > haltForever, "the step ran from where the pc was put");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a hang guard for the wait on guest memory, not a speed check
    void allStopHoldsEveryVcpuAndEachKeepsItsOwnState() throws Exception {
        attachBeforeFirstInstruction(2, TestGuest.MODE_RUN);
        // First vCPU 1 alone runs into secondary(): on a loaded host its thread might otherwise not
        // have run at all by the time vCPU 0 reaches add (correct all-stop, not this test's subject).
        long secondaryEntry = TestGuest.address("secondary");
        target.insertBreakpoint(BreakpointType.SOFTWARE, secondaryEntry, 1);
        assertEquals(trap(T2, new StopEvent.SoftwareBreak()),
                harness.resume(new ResumeRequest(Map.of(T2, new ResumeRequest.Continue(0)), null)));
        target.removeBreakpoint(BreakpointType.SOFTWARE, secondaryEntry, 1);
        long add = TestGuest.address("add");
        long secondaryCount = TestGuest.address("secondary_count") + 8; // secondary_count[1]
        // vCPU 1 alone first, until it counts: on a busy host vCPU 0 could reach add() before vCPU 1's thread ran at all.
        CompletableFuture<StopEvent> counting = new CompletableFuture<>();
        target.resume(new ResumeRequest(Map.of(T2, new ResumeRequest.Continue(0)), null), counting::complete);
        while (TestGuest.le64(harness.raw(secondaryCount, 8), 0) == 0) {
            Thread.sleep(1); // the test's @Timeout is the hang guard
        }
        target.interrupt();
        assertEquals(new StopEvent.Signal(T2, StopEvent.SIGINT, PLAIN), counting.get(60, TimeUnit.SECONDS));
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);

        assertEquals(trap(T1, new StopEvent.SoftwareBreak()), harness.continueAll());

        assertTrue(target.threadExtraInfo(T2).startsWith("stopped at 0x"), "vCPU 1 is out of KVM_RUN too: " + target.threadExtraInfo(T2));
        long secondary = TestGuest.address("secondary");
        long pc2 = harness.rip(T2);
        assertTrue(pc2 >= secondary && pc2 < secondary + TestGuest.size("secondary"), String.format("vCPU 1 at 0x%x, in secondary()", pc2));

        // Scheduler locking: only vCPU 1 steps; vCPU 0 stays on its breakpoint.
        assertEquals(trap(T2, PLAIN), harness.step(T2));
        assertEquals(add, harness.rip(T1));
        assertTrue(harness.rip(T2) != pc2);

        // Only vCPU 0 steps: off the breakpoint, one instruction; then a few more. vCPU 1 is held all along.
        long count = TestGuest.le64(harness.read(secondaryCount, 8), 0);
        long heldPc = harness.rip(T2);
        assertEquals(trap(T1, PLAIN), harness.step(T1));
        assertEquals(add + 1, harness.rip(T1));
        for (int i = 0; i < 4; i++) {
            assertEquals(T1, ((StopEvent.Signal) harness.step(T1)).thread());
        }
        assertEquals(count, TestGuest.le64(harness.raw(secondaryCount, 8), 0), "vCPU 1 is stopped");
        assertEquals(heldPc, harness.rip(T2), "vCPU 1 did not move");
    }

    @Test
    void killEndsTheGuest() throws Exception {
        attachBeforeFirstInstruction(1, TestGuest.MODE_RUN);
        target.kill();
        VmExit exit = vm.awaitExit();
        assertEquals(VmExit.Kind.KILLED, exit.kind());
        assertEquals(new StopEvent.Terminated(9), harness.continueAll());
    }
}

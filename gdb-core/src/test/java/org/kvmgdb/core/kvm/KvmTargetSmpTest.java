package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;
import org.kvmgdb.arch.x86.X86GuestDebug;
import org.kvmgdb.arch.x86.X86_64ArchitectureProvider;
import org.kvmgdb.arch.x86.kvm.KvmGuestDebug;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/**
 * {@link KvmTarget} with several vCPUs on /dev/kvm, running the SMP guest (src/test/c/smp.c), where
 * every vCPU runs the same code: all-stop, breakpoint hits of two vCPUs at once, scheduler-locking,
 * Ctrl-C, range stepping, and the flags a step leaves for gdb to see.
 */
class KvmTargetSmpTest {
    private static final int T1 = 1, T2 = 2;
    /** RFLAGS.IF. */
    private static final long IF = 1L << 9;
    @RegisterExtension
    final KvmTargetHarness harness = new KvmTargetHarness();

    private final ByteArrayOutputStream serial = new ByteArrayOutputStream();
    private Vm vm;
    private KvmTarget target;

    /** {@code kvmgdb run -S}: every vCPU at the entry point, a debugger attached. */
    private void attach(int vcpus, ArchitectureProvider arch) throws Exception {
        vm = harness.bootSmp(vcpus, serial, arch);
        target = harness.own(new KvmTarget(vm, arch));
        target.attach();
    }

    private void attach(int vcpus) throws Exception {
        attach(vcpus, X86ForTests.provider());
    }

    private StopEvent only(int thread, ResumeRequest.Action action) throws Exception {
        return harness.resume(new ResumeRequest(Map.of(thread, action), null));
    }

    /** Resumes everything, waits until {@code until} holds (the guest got somewhere), then interrupts: Ctrl-C. */
    private StopEvent continueUntilThenInterrupt(BooleanSupplier until) throws Exception {
        CompletableFuture<StopEvent> stop = new CompletableFuture<>();
        target.resume(ResumeRequest.all(new ResumeRequest.Continue(0)), stop::complete);
        long guard = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!until.getAsBoolean() && !stop.isDone() && System.nanoTime() < guard) {
            Thread.onSpinWait();
        }
        target.interrupt();
        return stop.get(60, TimeUnit.SECONDS);
    }

    private void poke(String symbol, int value) throws TargetException {
        target.writeMemory(T1, SmpGuest.address(symbol), TestGuest.le32(value));
    }

    /** A guest variable as the stopped target shows it. */
    private long peek(String symbol, int index) throws TargetException {
        byte[] b = new byte[8];
        assertEquals(8, target.readMemory(T1, SmpGuest.address(symbol) + 8L * index, b, 8));
        return TestGuest.le64(b, 0);
    }

    /** A guest variable straight from RAM, while the guest may be running (identity-mapped). */
    private long raw(String symbol, int index) {
        byte[] b = new byte[8];
        vm.memory().read(SmpGuest.address(symbol) + 8L * index, b, 0, 8);
        return TestGuest.le64(b, 0);
    }

    /** Waits (the test's @Timeout is the hang guard) until guest RAM there differs from {@code old}, or the resume ended. */
    private byte[] awaitChange(long address, byte[] old, CompletableFuture<StopEvent> stop) throws InterruptedException {
        byte[] now;
        while (java.util.Arrays.equals(now = harness.raw(address, old.length), old)) {
            assertTrue(!stop.isDone(), "the range step ended on its own: " + stop.getNow(null));
            Thread.sleep(1);
        }
        return now;
    }

    /** The ABI's initial RSP of vCPU {@code thread - 1}: top of RAM less 64 KiB per index. */
    private static long initialRsp(int thread) {
        return SmpGuest.RAM - (thread - 1) * 0x10000L;
    }

    private static StopEvent.Signal signal(StopEvent event) {
        assertTrue(event instanceof StopEvent.Signal, "a thread stopped: " + event);
        return (StopEvent.Signal) event;
    }

    @Test
    void twoVcpusRunningIntoOneBreakpointAreEachReportedForEveryHitAndNoHitIsLost() throws Exception {
        attach(2);
        poke("go", 1);
        long shared = SmpGuest.address("shared");
        target.insertBreakpoint(BreakpointType.SOFTWARE, shared, 1);

        // rounds = 3: each vCPU calls shared() three times. A hit that is lost (kept from gdb, or a
        // vCPU stepped over a breakpoint it never reported) or told twice breaks the count.
        Map<Integer, Integer> reported = new HashMap<>(Map.of(T1, 0, T2, 0));
        for (int i = 0; i < 6; i++) {
            StopEvent.Signal stop = signal(harness.continueAll());
            assertEquals(StopEvent.SIGTRAP, stop.signal());
            assertEquals(new StopEvent.SoftwareBreak(), stop.reason(), "stop " + i + ": " + stop);
            int thread = stop.thread();
            assertEquals(shared, harness.rip(thread), "vCPU " + (thread - 1) + " stands on the breakpoint");
            assertEquals(reported.get(thread).longValue(), peek("hits", thread - 1),
                    "vCPU " + (thread - 1) + " has made exactly the calls already reported, and is at the next one");
            reported.merge(thread, 1, Integer::sum);
        }
        assertEquals(Map.of(T1, 3, T2, 3), reported);

        // No seventh hit: both go on to spin; Ctrl-C stops them.
        StopEvent.Signal stop = signal(continueUntilThenInterrupt(() -> raw("spins", 0) > 0 && raw("spins", 1) > 0));
        assertEquals(StopEvent.SIGINT, stop.signal());
        assertEquals(3, peek("hits", 0));
        assertEquals(3, peek("hits", 1));
    }

    @Test
    void twoVcpusStandingOnABreakpointReportItOneAfterTheOther() throws Exception {
        attach(2);
        long start = SmpGuest.address("_start");
        // -S: both stand at the entry and have not executed it. A breakpoint there is hit by both at
        // once; the second hit is reported on the next resume (without running, if it was kept).
        target.insertBreakpoint(BreakpointType.SOFTWARE, start, 1);

        StopEvent.Signal first = signal(harness.continueAll());
        assertEquals(new StopEvent.SoftwareBreak(), first.reason());
        assertEquals(start, harness.rip(first.thread()));
        StopEvent.Signal second = signal(harness.continueAll());
        assertEquals(new StopEvent.SoftwareBreak(), second.reason());
        assertNotEquals(first.thread(), second.thread(), "the other vCPU's hit");
        assertEquals(start, harness.rip(second.thread()));

        // Neither is reported again: both step off and wait at the rendezvous (go is 0), with the
        // prologue executed once (push %rbp; sub $0x20,%rsp).
        StopEvent.Signal stop = signal(continueUntilThenInterrupt(() -> raw("arrived", 0) == 2));
        assertEquals(StopEvent.SIGINT, stop.signal());
        assertEquals(2, peek("arrived", 0));
        assertEquals(initialRsp(T1) - 0x28, harness.register(T1, "rsp"));
        assertEquals(initialRsp(T2) - 0x28, harness.register(T2, "rsp"));
    }

    @Test
    void aHitWhoseBreakpointGdbRemovedMeanwhileIsDroppedAndItsInstructionRunsProperly() throws Exception {
        attach(2);
        long start = SmpGuest.address("_start");
        target.insertBreakpoint(BreakpointType.SOFTWARE, start, 1);
        StopEvent.Signal first = signal(harness.continueAll());
        assertEquals(start, harness.rip(first.thread()));
        int other = first.thread() == T1 ? T2 : T1;
        assertEquals(start, harness.rip(other), "the other vCPU hit the int3 too, or was stopped just before it");

        target.removeBreakpoint(BreakpointType.SOFTWARE, start, 1);

        // The other vCPU's hit, if it was kept, is not told: its breakpoint is gone. Its pc was left
        // on the instruction (RIP at the 0xCC, in both exit shapes), so push %rbp runs once, now.
        StopEvent.Signal stop = signal(continueUntilThenInterrupt(() -> raw("arrived", 0) == 2));
        assertEquals(StopEvent.SIGINT, stop.signal(), "no breakpoint report for a breakpoint that is gone");
        assertEquals(initialRsp(T1) - 0x28, harness.register(T1, "rsp"));
        assertEquals(initialRsp(T2) - 0x28, harness.register(T2, "rsp"));
    }

    @Test
    void withSchedulerLockingOnlyTheResumedVcpuRuns() throws Exception {
        attach(2);
        poke("go", 1);
        long shared = SmpGuest.address("shared");
        target.insertBreakpoint(BreakpointType.SOFTWARE, shared, 1);
        int first = signal(harness.continueAll()).thread();
        int other = first == T1 ? T2 : T1;
        long otherPc = harness.rip(other);
        long otherHits = peek("hits", other - 1);

        // set scheduler-locking on; continue: only the current vCPU runs, to its next call of shared().
        StopEvent.Signal again = signal(only(first, new ResumeRequest.Continue(0)));
        assertEquals(first, again.thread());
        assertEquals(new StopEvent.SoftwareBreak(), again.reason());
        assertEquals(1, peek("hits", first - 1));
        assertEquals(otherPc, harness.rip(other), "the other vCPU stayed where it was");
        assertEquals(otherHits, peek("hits", other - 1));

        // scheduler-locking step: one instruction of the current vCPU, the other still held.
        signal(only(first, new ResumeRequest.Step(0)));
        assertEquals(shared + 1, harness.rip(first), "off the breakpoint by one instruction (push %rbp)");
        assertEquals(otherPc, harness.rip(other));
    }

    @Test
    void ctrlCStopsEveryVcpu() throws Exception {
        attach(2);
        poke("go", 1);
        poke("rounds", 0);

        StopEvent.Signal stop = signal(continueUntilThenInterrupt(() -> raw("spins", 0) > 0 && raw("spins", 1) > 0));

        assertEquals(StopEvent.SIGINT, stop.signal());
        assertTrue(stop.thread() == T1 || stop.thread() == T2, "a thread is named: " + stop);
        // Both vCPU threads are out of KVM_RUN...
        assertTrue(target.threadExtraInfo(T1).startsWith("stopped at 0x"), target.threadExtraInfo(T1));
        assertTrue(target.threadExtraInfo(T2).startsWith("stopped at 0x"), target.threadExtraInfo(T2));
        // ...and stay there while the other one runs: each vCPU in turn steps its spin loop a few
        // instructions (every step a round trip through the vCPU threads), the held one does not move.
        for (int[] pair : new int[][] {{T1, T2}, {T2, T1}}) {
            int stepping = pair[0], held = pair[1];
            long heldSpins = raw("spins", held - 1);
            long heldPc = harness.rip(held);
            for (int i = 0; i < 8; i++) {
                assertEquals(stepping, signal(only(stepping, new ResumeRequest.Step(0))).thread());
            }
            assertEquals(heldSpins, raw("spins", held - 1), "vCPU " + (held - 1) + " is stopped");
            assertEquals(heldPc, harness.rip(held), "vCPU " + (held - 1) + " did not move");
        }
    }

    @Test
    void aRangeStepOverALoopStopsWhenThePcLeavesTheRangeOrOnABreakpointInIt() throws Exception {
        attach(1);
        poke("go", 1);
        long sumTo = SmpGuest.address("sum_to");
        target.insertBreakpoint(BreakpointType.SOFTWARE, sumTo, 1);
        assertEquals(StopEvent.SIGTRAP, signal(harness.continueAll()).signal());
        assertEquals(sumTo, harness.rip(T1));
        long returnAddress = peek64At(harness.register(T1, "rsp"));
        ResumeRequest.RangeStep wholeFunction = new ResumeRequest.RangeStep(sumTo, sumTo + SmpGuest.size("sum_to"));

        // A breakpoint inside the range ends the range step there.
        long body = SmpGuest.address("sum_to_body");
        target.insertBreakpoint(BreakpointType.SOFTWARE, body, 1);
        StopEvent.Signal atBody = signal(only(T1, wholeFunction));
        assertEquals(new StopEvent.SoftwareBreak(), atBody.reason());
        assertEquals(body, harness.rip(T1));
        target.removeBreakpoint(BreakpointType.SOFTWARE, body, 1);

        // Then one resume runs all 1000 iterations (about 10,000 instructions) and stops at the return.
        StopEvent.Signal out = signal(only(T1, wholeFunction));
        assertEquals(new StopEvent.Signal(T1, StopEvent.SIGTRAP, new StopEvent.Plain()), out);
        assertEquals(returnAddress, harness.rip(T1), "the first pc outside sum_to");
        assertEquals(999L * 1000 / 2, harness.register(T1, "rax"), "sum_to(1000) returned");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a hang guard for the waits on guest memory, not a speed check
    void ctrlCEndsALongRangeStepInsideItsRange() throws Exception {
        attach(1);
        poke("go", 1);
        poke("sum_n", 100_000_000); // hours of single steps
        long sumTo = SmpGuest.address("sum_to");
        target.insertBreakpoint(BreakpointType.SOFTWARE, sumTo, 1);
        signal(harness.continueAll());
        target.removeBreakpoint(BreakpointType.SOFTWARE, sumTo, 1);

        // sum_to's frame (identity-mapped stack, gcc -O0 keeps total and i there) shows the loop going round.
        long frame = harness.register(T1, "rsp") - 64;
        byte[] before = harness.raw(frame, 64);
        CompletableFuture<StopEvent> stop = new CompletableFuture<>();
        target.resume(new ResumeRequest(Map.of(T1, new ResumeRequest.RangeStep(sumTo, sumTo + SmpGuest.size("sum_to"))), null),
                stop::complete);
        byte[] started = awaitChange(frame, before, stop); // the prologue ran
        awaitChange(frame, started, stop); // and the loop goes round: the interrupt comes inside a long range step
        target.interrupt();

        assertEquals(new StopEvent.Signal(T1, StopEvent.SIGINT, new StopEvent.Plain()), stop.get(60, TimeUnit.SECONDS));
        long pc = harness.rip(T1);
        assertTrue(pc >= sumTo && pc < sumTo + SmpGuest.size("sum_to"), String.format("pc 0x%x is in sum_to", pc));
    }

    /**
     * A kick that lands as a step ends stays pending in the vCPU thread. Were it still pending when
     * the thread ends (the VM closed), the JVM would restore the thread's first signal mask and the
     * kick's default action would end the process: this test would then kill its own JVM.
     */
    @Test
    void closingTheVmRightAfterCtrlCDuringARangeStepLeavesTheProcessAlive() throws Exception {
        for (int round = 0; round < 20; round++) {
            attach(1);
            poke("go", 1);
            poke("sum_n", 100_000_000);
            long sumTo = SmpGuest.address("sum_to");
            target.insertBreakpoint(BreakpointType.SOFTWARE, sumTo, 1);
            signal(harness.continueAll());
            target.removeBreakpoint(BreakpointType.SOFTWARE, sumTo, 1);
            CompletableFuture<StopEvent> stop = new CompletableFuture<>();
            target.resume(new ResumeRequest(Map.of(T1, new ResumeRequest.RangeStep(sumTo, sumTo + SmpGuest.size("sum_to"))), null),
                    stop::complete);
            target.interrupt();
            assertEquals(StopEvent.SIGINT, signal(stop.get(60, TimeUnit.SECONDS)).signal());
            harness.close();
        }
    }

    @Test
    void eflagsAfterEachStepAreTheGuestsOwn() throws Exception {
        attach(1);
        assertStepsShowTheGuestsFlags();
    }

    @Test
    void eflagsAfterEachStepAreTheGuestsOwnWhereKvmCannotBlockInterrupts() throws Exception {
        WithoutBlockIrq debug = new WithoutBlockIrq();
        attach(1, new X86_64ArchitectureProvider() {
            @Override
            public Optional<GuestDebug> guestDebug() {
                return Optional.of(debug);
            }
        });

        assertStepsShowTheGuestsFlags();

        assertEquals(4, debug.masked.get(), "IF was cleared for each of the four steps");
        assertEquals(4, debug.restored.get(), "and set again after each");
    }

    /** flags_probe: sti, pushf (the guest's own RFLAGS, running freely), then four nops, stepped one by one. */
    private void assertStepsShowTheGuestsFlags() throws Exception {
        poke("go", 1);
        poke("probe", 1);
        poke("sum_n", 10);
        long nops = SmpGuest.address("flags_probe_nops");
        target.insertBreakpoint(BreakpointType.SOFTWARE, nops, 1);
        signal(harness.continueAll());
        assertEquals(nops, harness.rip(T1));
        long own = peek("flags_seen", 0);
        assertEquals(IF, own & IF, "the guest turned interrupts on");
        assertEquals(own, harness.register(T1, "eflags"), "at a breakpoint");

        for (int i = 1; i <= 4; i++) {
            assertEquals(new StopEvent.Signal(T1, StopEvent.SIGTRAP, new StopEvent.Plain()), only(T1, new ResumeRequest.Step(0)));
            assertEquals(nops + i, harness.rip(T1));
            assertEquals(own, harness.register(T1, "eflags"), "after step " + i + ": no TF, IF as the guest has it");
        }
    }

    private long peek64At(long address) throws TargetException {
        byte[] b = new byte[8];
        assertEquals(8, target.readMemory(T1, address, b, 8));
        return TestGuest.le64(b, 0);
    }

    /**
     * The x86 guest debug of a kernel without KVM_GUESTDBG_BLOCKIRQ (before Linux 5.15): the real
     * encoding and IF fallback, told by KVM_CAP_SET_GUEST_DEBUG2 that BLOCKIRQ is not there.
     */
    static final class WithoutBlockIrq implements GuestDebug {
        final AtomicInteger masked = new AtomicInteger();
        final AtomicInteger restored = new AtomicInteger();
        private final X86GuestDebug real = new X86GuestDebug();

        @Override
        public boolean fits(java.util.List<HardwareSlot> slots) {
            return real.fits(slots);
        }

        @Override
        public void apply(VcpuHandle vcpu, DebugControl control) {
            real.apply(hide(vcpu), control);
        }

        @Override
        public Unmask maskInterruptsForStep(VcpuHandle vcpu, DebugControl control) {
            Unmask unmask = real.maskInterruptsForStep(hide(vcpu), control);
            if (unmask == Unmask.NOTHING) {
                return unmask;
            }
            masked.incrementAndGet();
            return v -> {
                unmask.restore(v);
                restored.incrementAndGet();
            };
        }

        private static VcpuHandle hide(VcpuHandle vcpu) {
            VmHandle vm = vcpu.vm();
            VmHandle older = new VmHandle() {
                @Override
                public int checkExtension(int capability) {
                    int value = vm.checkExtension(capability);
                    return capability == KvmIoctls.KVM_CAP_SET_GUEST_DEBUG2 ? value & ~KvmGuestDebug.KVM_GUESTDBG_BLOCKIRQ : value;
                }

                @Override
                public int ioctl(long request, ByteBuffer arg) {
                    return vm.ioctl(request, arg);
                }

                @Override
                public int systemIoctl(long request, ByteBuffer arg) {
                    return vm.systemIoctl(request, arg);
                }

                @Override
                public PhysicalMemory memory() {
                    return vm.memory();
                }
            };
            return new VcpuHandle() {
                @Override
                public int index() {
                    return vcpu.index();
                }

                @Override
                public VmHandle vm() {
                    return older;
                }

                @Override
                public int ioctl(long request, ByteBuffer arg) {
                    return vcpu.ioctl(request, arg);
                }

                @Override
                public void getOneReg(long id, ByteBuffer value) {
                    vcpu.getOneReg(id, value);
                }

                @Override
                public void setOneReg(long id, ByteBuffer value) {
                    vcpu.setOneReg(id, value);
                }

                @Override
                public ByteBuffer kvmRun() {
                    return vcpu.kvmRun();
                }
            };
        }
    }
}

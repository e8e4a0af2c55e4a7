package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/**
 * The per-stop register cache ({@link Vcpu#cacheReads}): after a breakpoint stop every reader
 * (stop classifier, the stop's pc, the expedited registers of the stop reply, the thread list's
 * pc, the next resume) is served by one KVM_GET_REGS; a register write and a run make the next
 * read ask KVM again. Counted on the real KVM through a {@link KvmKernel} that passes every call on.
 */
class KvmRegisterCacheTest {
    private static final int T1 = 1;

    private final AtomicInteger getRegs = new AtomicInteger();
    private final KvmKernel counting = new KvmKernel() {
        private final KvmKernel host = KvmKernel.host();

        @Override public int open(String path, int flags) { return host.open(path, flags); }
        @Override public int close(int fd) { return host.close(fd); }
        @Override public long mmap(long length, int prot, int flags, int fd, long offset) { return host.mmap(length, prot, flags, fd, offset); }
        @Override public int munmap(long address, long length) { return host.munmap(address, length); }

        @Override
        public int ioctl(int fd, long request, long arg) {
            if (request == KvmIoctls.KVM_GET_REGS) {
                getRegs.incrementAndGet();
            }
            return host.ioctl(fd, request, arg);
        }
    };

    private Kvm kvm;
    private Vm vm;
    private KvmTarget target;

    @BeforeEach
    void boot() throws Exception {
        TestGuest.assumeKvm();
        kvm = Kvm.open(counting);
        vm = TestGuest.boot(kvm, 1, new ByteArrayOutputStream(), TestGuest.MODE_RUN);
        target = new KvmTarget(vm, X86ForTests.provider());
        target.attach();
    }

    @AfterEach
    void close() {
        if (target != null) {
            target.close();
        }
        if (vm != null) {
            vm.close();
        }
        if (kvm != null) {
            kvm.close();
        }
    }

    private StopEvent resume(ResumeRequest request) throws Exception {
        CompletableFuture<StopEvent> stop = new CompletableFuture<>();
        target.resume(request, stop::complete);
        return stop.get(60, TimeUnit.SECONDS); // a safety net against a hang, not a speed check
    }

    private int regnum(String name) {
        return target.description().register(name).orElseThrow().regnum();
    }

    private long register(String name) throws TargetException {
        return TestGuest.le64(target.readRegister(T1, regnum(name)), 0);
    }

    /** What gdb asks after a breakpoint hit: the stop reply's rip, rsp and rbp, the thread list, a p of rip. */
    private void readLikeGdbAfterAStop() throws TargetException {
        target.readRegisters(T1, new int[] {regnum("rbp"), regnum("rsp"), regnum("rip")});
        target.threadExtraInfo(T1);
        target.readRegister(T1, regnum("rip"));
    }

    @Test
    void oneKvmGetRegsServesEveryReaderOfABreakpointStop() throws Exception {
        long add = TestGuest.address("add");
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);
        int before = getRegs.get();

        assertEquals(new StopEvent.Signal(T1, StopEvent.SIGTRAP, new StopEvent.SoftwareBreak()),
                resume(ResumeRequest.all(new ResumeRequest.Continue(0))));
        readLikeGdbAfterAStop();
        assertEquals(add, register("rip"));

        // One before the run (does the vCPU stand on a breakpoint it must step off?), one for the stop.
        assertEquals(2, getRegs.get() - before, "KVM_GET_REGS per continue to a breakpoint");

        // The next hit: the resume's own check is served by the stop's read, the step off the
        // breakpoint is told by kvm_run alone, and the hit reads once.
        before = getRegs.get();
        assertEquals(new StopEvent.Signal(T1, StopEvent.SIGTRAP, new StopEvent.SoftwareBreak()),
                resume(ResumeRequest.all(new ResumeRequest.Continue(0))));
        readLikeGdbAfterAStop();
        assertEquals(2, register("rdi"), "second call: add(2, 20)");
        assertEquals(1, getRegs.get() - before, "KVM_GET_REGS per continue from one breakpoint hit to the next");
    }

    @Test
    void aRegisterWriteAndARunAreSeenByTheNextRead() throws Exception {
        long rax = register("rax");
        long rip = register("rip");
        int before = getRegs.get();
        register("rax");
        assertEquals(before, getRegs.get(), "a second read of a stopped vCPU is served from the first");

        byte[] changed = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(rax ^ 0x5A5A_0000L).array();
        target.writeRegister(T1, regnum("rax"), changed);
        assertEquals(rax ^ 0x5A5A_0000L, register("rax"), "the write went to KVM and the read asked KVM again");

        // _start begins with push %rbp (gcc -O0): one step moves rip on by one byte.
        assertEquals(new StopEvent.Signal(T1, StopEvent.SIGTRAP, new StopEvent.Plain()),
                resume(new ResumeRequest(Map.of(T1, new ResumeRequest.Step(0)), null)));
        assertEquals(rip + 1, register("rip"), "after a run the registers are read again");
        assertEquals(rax ^ 0x5A5A_0000L, register("rax"), "the guest ran with the written value");
        assertTrue(getRegs.get() > before, "reads after the write and the run asked KVM");
    }

    /**
     * Steps in a row run with the same guest debug state, so nothing but the run itself tells the
     * cache that the registers moved on: each step's pc and stack pointer are the new ones.
     */
    @Test
    void eachOfStepsInARowSeesTheRegistersTheStepLeft() throws Exception {
        long rip = register("rip");
        long rsp = register("rsp");
        ResumeRequest step = new ResumeRequest(Map.of(T1, new ResumeRequest.Step(0)), null);
        // _start: push %rbp (1 byte), mov %rsp,%rbp (3 bytes), sub $0x28,%rsp (4 bytes), as gcc -O0 emits it.
        long[] after = {rip + 1, rip + 4, rip + 8};
        for (long expected : after) {
            assertEquals(new StopEvent.Signal(T1, StopEvent.SIGTRAP, new StopEvent.Plain()), resume(step));
            assertEquals(expected, register("rip"), "the pc after this step");
        }
        assertEquals(rsp - 8 - 0x28, register("rsp"), "push and sub moved the stack pointer");
        assertEquals(rsp - 8, register("rbp"), "mov %rsp,%rbp");
    }

    /**
     * VcpuHandle.ioctl passes a buffer's whole capacity and ignores its position and limit; a cached
     * answer is copied the same way, to a caller's buffer with a smaller limit too.
     */
    @Test
    void aCachedReadFillsTheWholeBufferWhateverItsLimit() throws Exception {
        long rip = register("rip");
        Vcpu vcpu = vm.vcpus().get(0);
        for (int i = 0; i < 2; i++) { // the second is served from the first's answer
            java.nio.ByteBuffer regs = org.kvmgdb.api.hypervisor.VcpuHandle.buffer(org.kvmgdb.arch.x86.kvm.KvmRegs.SIZE);
            regs.position(16).limit(24);
            vcpu.ioctl(KvmIoctls.KVM_GET_REGS, regs);
            assertEquals(rip, regs.clear().getLong(org.kvmgdb.arch.x86.kvm.KvmRegs.RIP), "rip in read " + i);
        }
    }
}

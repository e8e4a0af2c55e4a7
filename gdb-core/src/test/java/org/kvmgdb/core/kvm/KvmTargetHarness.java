package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.core.elf.ElfException;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/**
 * One test's /dev/kvm, guest {@link Vm} and {@link KvmTarget}, plus the few things every KvmTarget
 * test does to them (resume and wait, read a register, read memory). Registered per test with
 * {@code @RegisterExtension}: before the test it skips it when /dev/kvm is missing and opens KVM;
 * after the test it closes the target, the VM and KVM, whatever the test left behind.
 */
final class KvmTargetHarness implements BeforeEachCallback, AfterEachCallback {
    private static final int T1 = 1;

    private Kvm kvm;
    private Vm vm;
    private KvmTarget target;

    @Override
    public void beforeEach(ExtensionContext context) {
        TestGuest.assumeKvm();
        kvm = Kvm.open();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
        if (kvm != null) {
            kvm.close();
            kvm = null;
        }
    }

    Kvm kvm() {
        return kvm;
    }

    /** The test guest (src/test/c/guest.c), booted and not started; closed after the test. */
    Vm boot(int vcpus, OutputStream serial, int mode) throws ElfException {
        vm = TestGuest.boot(kvm, vcpus, serial, mode);
        return vm;
    }

    /** The SMP guest (src/test/c/smp.c), booted and not started; closed after the test. */
    Vm bootSmp(int vcpus, OutputStream serial, ArchitectureProvider arch) throws ElfException {
        vm = SmpGuest.boot(kvm, vcpus, serial, arch);
        return vm;
    }

    /** The target the helpers below drive; closed after the test. Not attached here: some tests attach as their action. */
    KvmTarget own(KvmTarget target) {
        this.target = target;
        return target;
    }

    /** Closes the target and the VM now (a test that boots several in a row); the next boot starts afresh. */
    void close() {
        if (target != null) {
            target.close();
            target = null;
        }
        if (vm != null) {
            vm.close();
            vm = null;
        }
    }

    StopEvent resume(ResumeRequest request) throws Exception {
        CompletableFuture<StopEvent> stop = new CompletableFuture<>();
        target.resume(request, stop::complete);
        return stop.get(60, TimeUnit.SECONDS); // a safety net against a hang, not a speed check
    }

    /** vCont;c: every vCPU continues. */
    StopEvent continueAll() throws Exception {
        return resume(ResumeRequest.all(new ResumeRequest.Continue(0)));
    }

    /** vCont;s:thread: that vCPU steps, the others stay stopped. */
    StopEvent step(int thread) throws Exception {
        return resume(new ResumeRequest(Map.of(thread, new ResumeRequest.Step(0)), null));
    }

    /** A register by its target-description name, as gdb's 'p' packet reads it; 32-bit ones (eflags) zero-extended. */
    long register(int thread, String name) throws TargetException {
        int regnum = target.description().register(name).orElseThrow().regnum();
        byte[] value = target.readRegister(thread, regnum);
        return value.length == 4 ? TestGuest.le64(new byte[] {value[0], value[1], value[2], value[3], 0, 0, 0, 0}, 0)
                : TestGuest.le64(value, 0);
    }

    long rip(int thread) throws TargetException {
        return register(thread, "rip");
    }

    /** Memory as the debugger sees it (breakpoints hidden), all of it read. */
    byte[] read(long address, int length) throws TargetException {
        byte[] buffer = new byte[length];
        assertEquals(length, target.readMemory(T1, address, buffer, length));
        return buffer;
    }

    /** Guest-physical bytes as they really are (the guest is identity-mapped), breakpoints included. */
    byte[] raw(long address, int length) {
        byte[] b = new byte[length];
        vm.memory().read(address, b, 0, length);
        return b;
    }
}

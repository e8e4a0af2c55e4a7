package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The VMM without a debugger: a real guest on /dev/kvm. */
class VmTest {
    private static Kvm kvm;

    @BeforeAll
    static void openKvm() {
        TestGuest.assumeKvm();
        kvm = Kvm.open();
    }

    @AfterAll
    static void closeKvm() {
        if (kvm != null) {
            kvm.close();
        }
    }

    @Test
    void runsTheGuestToItsExitStatusAndPrintsOnCom1() throws Exception {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (Vm vm = TestGuest.boot(kvm, 1, serial, TestGuest.MODE_RUN)) {
            VmExit exit = vm.runUntilExit();

            assertEquals(VmExit.Kind.EXIT_PORT, exit.kind(), exit.description());
            assertEquals(TestGuest.EXIT_STATUS, exit.status());
            assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
        }
    }

    @Test
    void secondaryVcpusRunAlongsideAndTheExitPortEndsThemAll() throws Exception {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (Vm vm = TestGuest.boot(kvm, 2, serial, TestGuest.MODE_RUN)) {
            VmExit exit = vm.runUntilExit();

            assertEquals(TestGuest.EXIT_STATUS, exit.status(), exit.description());
            assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
            synchronized (vm.lock) {
                for (VcpuRunner runner : vm.runners()) {
                    assertFalse(runner.running(), runner + " still runs after the VM ended");
                }
            }
        }
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang guard: a spinning vCPU never reaches WAITING
    void aHaltedVcpuWaitsOnALockInsteadOfSpinning() throws Exception {
        try (Vm vm = TestGuest.boot(kvm, 1, new ByteArrayOutputStream(), TestGuest.MODE_HALT)) {
            vm.start();
            VcpuRunner runner = vm.runners().get(0);
            while (!isHalted(vm, runner)) {
                Thread.onSpinWait();
            }
            Thread vcpuThread = threadNamed("vcpu-0");
            // Parked in Object.wait, not in KVM_RUN (which would show RUNNABLE).
            while (vcpuThread.getState() == Thread.State.RUNNABLE || vcpuThread.getState() == Thread.State.BLOCKED) {
                Thread.onSpinWait();
            }
            assertEquals(Thread.State.WAITING, vcpuThread.getState());
            assertEquals(Optional.empty(), vm.exit());

            vm.kill();
            assertEquals(VmExit.Kind.KILLED, vm.awaitExit().kind());
        }
    }

    private static boolean isHalted(Vm vm, VcpuRunner runner) {
        synchronized (vm.lock) {
            return runner.halted();
        }
    }

    private static Thread threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aGuestTheCpuCannotGoOnWithEndsTheVmSayingWhy() throws Exception {
        try (Vm vm = TestGuest.boot(kvm, 1, new ByteArrayOutputStream(), TestGuest.MODE_RUN)) {
            // int3 with no debugger: on PVM an emulation failure, on hardware KVM #BP through an
            // empty IDT and so a triple fault. Either way the VM cannot go on.
            vm.memory().write(TestGuest.address("_start"), new byte[] {(byte) 0xCC}, 0, 1);

            VmExit exit = vm.runUntilExit();

            assertTrue(exit.kind() == VmExit.Kind.FAILED || exit.kind() == VmExit.Kind.SHUTDOWN, exit.toString());
            assertEquals(VmExit.FAILED_STATUS, exit.status());
            assertTrue(exit.description().startsWith("vCPU 0: KVM_EXIT_"), exit.description());
            assertFalse(exit.description().contains("\n"));
        }
    }

    @Test
    void closingAVmThatNeverRanReleasesIt() throws Exception {
        Vm vm = TestGuest.boot(kvm, 2, new ByteArrayOutputStream(), TestGuest.MODE_RUN);
        vm.close();
        assertTrue(vm.exit().isPresent());
    }
}

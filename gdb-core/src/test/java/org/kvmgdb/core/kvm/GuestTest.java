package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.Platform;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.core.elf.ElfException;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;

/** The launcher's path from a file name to a booted guest. */
class GuestTest {

    @Test
    void bootsTheElfAndRunsItWithoutADebugger() throws Exception {
        TestGuest.assumeKvm();
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (Guest guest = Guest.boot(TestGuest.elf(), List.of(X86ForTests.provider()), new Vm.Config(Vm.DEFAULT_MEMORY, 1, serial))) {
            assertEquals("x86-64", guest.architecture().id());
            VmExit exit = guest.vm().runUntilExit();
            assertEquals(TestGuest.EXIT_STATUS, exit.status());
            assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aDebuggerFindsEveryVcpuAtTheEntryPoint() throws Exception {
        TestGuest.assumeKvm();
        try (Guest guest = Guest.boot(TestGuest.elf(), List.of(X86ForTests.provider()), new Vm.Config(Vm.DEFAULT_MEMORY, 3, new ByteArrayOutputStream()))) {
            KvmTarget target = guest.debugTarget();
            target.attach();
            assertEquals(new StopEvent.Signal(1, StopEvent.SIGTRAP, new StopEvent.Plain()), target.currentStop());
            assertEquals(List.of(1, 2, 3), target.threads());
            assertTrue(guest.debugTarget() == target, "one target per guest");
        }
    }

    @Test
    void closingTheGuestEndsTheTargetsReporterThread() throws Exception {
        TestGuest.assumeKvm();
        CompletableFuture<Thread> reportedOn = new CompletableFuture<>();
        try (Guest guest = Guest.boot(TestGuest.elf(), List.of(X86ForTests.provider()), new Vm.Config(Vm.DEFAULT_MEMORY, 1, new ByteArrayOutputStream()))) {
            KvmTarget target = guest.debugTarget();
            target.attach();
            target.kill();
            // The VM is gone, so the resume's report is found at once, outside any vCPU thread: the reporter delivers it.
            target.resume(ResumeRequest.all(new ResumeRequest.Continue(0)), event -> reportedOn.complete(Thread.currentThread()));
            reportedOn.get(60, TimeUnit.SECONDS); // a safety net against a hang, not a speed check
        }
        Thread reporter = reportedOn.get();
        assertEquals("kvm-stop-reporter", reporter.getName());
        reporter.join(20_000); // a hang guard: a reporter that was shut down ends at once
        assertFalse(reporter.isAlive(), "no thread is left behind by a closed guest");
    }

    @Test
    void elfProblemsAreRefusedWithTheirOneLineReason(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("guest.sh");
        Files.writeString(script, "#!/bin/sh\n");
        ElfException notElf = assertThrows(ElfException.class,
                () -> Guest.boot(script, List.of(X86ForTests.provider()), new Vm.Config(Vm.DEFAULT_MEMORY, 1, new ByteArrayOutputStream())));
        assertTrue(notElf.getMessage().contains("not an ELF file"), notElf.getMessage());

        ElfException tooSmall = assertThrows(ElfException.class,
                () -> Guest.boot(TestGuest.elf(), List.of(X86ForTests.provider()), new Vm.Config(1 << 20, 1, new ByteArrayOutputStream())));
        assertTrue(tooSmall.getMessage().contains("outside RAM"), tooSmall.getMessage());

        ElfException noArch = assertThrows(ElfException.class,
                () -> Guest.boot(TestGuest.elf(), List.of(), new Vm.Config(Vm.DEFAULT_MEMORY, 1, new ByteArrayOutputStream())));
        assertTrue(noArch.getMessage().contains("EM_X86_64 = 62"), noArch.getMessage());
    }

    @Test
    void theElfIsCheckedAgainstTheRamOfTheArchitecturesPlatform() throws Exception {
        // The test guest is linked at 1 MiB: it fits a PC, not a platform whose RAM starts at 1 GiB.
        ArchitectureProvider pc = X86ForTests.provider();
        BootState pcBoot = pc.bootState().orElseThrow();
        Platform highRam = new Platform(0x4000_0000L,
                Platform.Device.mmio(0x0900_0000L), Platform.Device.mmio(0x0a00_0000L));
        ArchitectureProvider elsewhere = new ArchitectureProvider() {
            @Override public String id() { return pc.id(); }
            @Override public int elfMachine() { return pc.elfMachine(); }
            @Override public TargetDescription targetDescription() { return pc.targetDescription(); }
            @Override public SoftwareBreakpoint softwareBreakpoint() { return pc.softwareBreakpoint(); }
            @Override public Optional<BootState> bootState() {
                return Optional.of(new BootState() {
                    @Override public void prepareMemory(PhysicalMemory memory, BootParameters parameters) {
                        pcBoot.prepareMemory(memory, parameters);
                    }
                    @Override public void boot(VcpuHandle vcpu, BootParameters parameters) {
                        pcBoot.boot(vcpu, parameters);
                    }
                    @Override public Platform platform() { return highRam; }
                });
            }
        };
        ElfException outside = assertThrows(ElfException.class,
                () -> Guest.boot(TestGuest.elf(), List.of(elsewhere), new Vm.Config(Vm.DEFAULT_MEMORY, 1, new ByteArrayOutputStream())));
        assertTrue(outside.getMessage().contains("outside RAM (0x40000000..0x48000000"), outside.getMessage());
    }
}

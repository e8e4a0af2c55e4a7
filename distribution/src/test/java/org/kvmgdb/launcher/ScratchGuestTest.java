package org.kvmgdb.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.core.elf.ElfImage;
import org.kvmgdb.core.kvm.Guest;
import org.kvmgdb.core.kvm.Kvm;
import org.kvmgdb.core.kvm.KvmTarget;
import org.kvmgdb.core.kvm.Vm;
import org.kvmgdb.core.registry.ProviderRegistry;
import org.kvmgdb.core.registry.Selection;
import org.kvmgdb.core.session.SessionWarmup;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;

/** The session warm-up's scratch VM: a loop of its own, and the user's guest left exactly as it was. */
class ScratchGuestTest {
    private static final Path DEMO = Path.of("target", "guests", "demo.elf");
    private static final long RAM = 16L << 20;

    private static ArchitectureProvider arch(int elfMachine) throws Exception {
        return ProviderRegistry.load(ScratchGuestTest.class.getClassLoader(), Selection.NONE).architectureForElfMachine(elfMachine).provider();
    }

    @Test
    void theLoopIsAnX86ExecutableTheElfLoaderTakes() throws Exception {
        ElfImage image = ElfImage.parse("loop", ScratchGuest.elf());
        assertEquals(62, image.machine());
        assertEquals(0x100000, image.entry());
    }

    @Test
    void otherArchitecturesGetNoScratchVm() throws Exception {
        assertNull(ScratchGuest.maker(arch(183), Kvm.DEVICE), "the loop's bytes are x86 code");
    }

    @Test
    void aWarmUpOnTheScratchVmLeavesTheHeldGuestsRamRegistersAndRunStateAsTheyWere() throws Exception {
        assumeTrue(Files.exists(Kvm.DEVICE), "/dev/kvm is missing");
        assumeTrue(Files.isRegularFile(DEMO), DEMO + " is missing (built by mvn's generate-resources)");
        ArchitectureProvider x86 = arch(62);
        try (Guest guest = Guest.boot(ElfImage.read(DEMO), x86, new Vm.Config(RAM, 1, OutputStream.nullOutputStream()))) {
            KvmTarget target = guest.debugTarget();
            byte[] ramBefore = new byte[(int) RAM];
            guest.vm().memory().read(0, ramBefore, 0, ramBefore.length);
            byte[] registersBefore = target.readRegisters(1);

            SessionWarmup warmup = SessionWarmup.start(target, true, ScratchGuest.maker(x86, Kvm.DEVICE));
            warmup.awaitEnd();

            assertTrue(warmup.onScratchVm(), "the warm-up did not run on its scratch VM");
            assertTrue(warmup.rounds() > 0, "the warm-up served no round of its script");
            byte[] ramAfter = new byte[(int) RAM];
            guest.vm().memory().read(0, ramAfter, 0, ramAfter.length);
            assertArrayEquals(ramBefore, ramAfter, "the guest's RAM changed");
            assertArrayEquals(registersBefore, target.readRegisters(1), "the guest's registers changed");
            // Still held before its first instruction: a debugger attaching now steps from the entry.
            target.attach();
            byte[] pc = target.readRegister(1, target.description().register("rip").orElseThrow().regnum());
            assertEquals(guest.image().entry(), java.nio.ByteBuffer.wrap(pc).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
            CompletableFuture<StopEvent> step = new CompletableFuture<>();
            target.resume(ResumeRequest.all(new ResumeRequest.Step(0)), step::complete);
            assertInstanceOf(StopEvent.Signal.class, step.get(60, TimeUnit.SECONDS)); // a safety net, not a speed check
        }
    }
}

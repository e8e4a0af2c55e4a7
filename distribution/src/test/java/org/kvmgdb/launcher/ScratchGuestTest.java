package org.kvmgdb.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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

/**
 * The session warm-up's scratch VM: offered on x86-64 unless switched off, a loop of its own that
 * leaves the user's guest exactly as it was, and when it cannot be made, simply no warm-up.
 */
class ScratchGuestTest {
    private static final Path DEMO = Path.of("target", "guests", "demo.elf");
    private static final long RAM = 16L << 20;
    /** A safety net for a guest that never stops, not a speed check. */
    private static final long SAFETY_SECONDS = 60;

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
        assertNull(ScratchGuest.maker(arch(183), Kvm.DEVICE, null, null), "the loop's bytes are x86 code");
    }

    @Test
    void thePropertyOrTheEnvironmentVariableTurnsItOff() throws Exception {
        ArchitectureProvider x86 = arch(62);
        assertNotNull(ScratchGuest.maker(x86, Kvm.DEVICE, null, null), "on by default");
        assertNotNull(ScratchGuest.maker(x86, Kvm.DEVICE, "true", "1"));
        assertNull(ScratchGuest.maker(x86, Kvm.DEVICE, "false", null), "-Dkvmgdb.warmup=false");
        assertNull(ScratchGuest.maker(x86, Kvm.DEVICE, "off", null), "-Dkvmgdb.warmup=off");
        assertNull(ScratchGuest.maker(x86, Kvm.DEVICE, null, "0"), "KVMGDB_WARMUP=0");
        assertNull(ScratchGuest.maker(x86, Kvm.DEVICE, "true", "0"), "either one turns it off");
    }

    @Test
    void aScratchVmThatCannotBeMadeMeansNoWarmUpAndNoError() throws Exception {
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        List<Throwable> escaped = new CopyOnWriteArrayList<>(); // what would reach the user's stderr
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> escaped.add(e));
        try {
            SessionWarmup warmup = SessionWarmup.start(ScratchGuest.maker(arch(62), Path.of("/nonexistent/kvm"), null, null));
            warmup.awaitEnd();
            assertEquals(0, warmup.rounds());
            assertEquals(List.of(), escaped);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }

    @Test
    void aWarmUpOnTheScratchVmLeavesTheHeldGuestsRamRegistersAndRunStateAsTheyWere() throws Exception {
        assumeTrue(Files.exists(Kvm.DEVICE), "/dev/kvm is missing");
        assumeTrue(Files.isRegularFile(DEMO), DEMO + " is missing (built by mvn's generate-resources)");
        ArchitectureProvider x86 = arch(62);
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (Guest guest = Guest.boot(ElfImage.read(DEMO), x86, new Vm.Config(RAM, 1, serial))) {
            KvmTarget target = guest.debugTarget();
            byte[] ramBefore = new byte[(int) RAM];
            guest.vm().memory().read(0, ramBefore, 0, ramBefore.length);
            byte[] registersBefore = target.readRegisters(1);

            SessionWarmup warmup = SessionWarmup.start(ScratchGuest.maker(x86, Kvm.DEVICE, null, null));
            warmup.awaitEnd();

            assertTrue(warmup.rounds() > 0, "the warm-up served no round of its script on its scratch VM");
            byte[] ramAfter = new byte[(int) RAM];
            guest.vm().memory().read(0, ramAfter, 0, ramAfter.length);
            assertArrayEquals(ramBefore, ramAfter, "the guest's RAM changed");
            assertArrayEquals(registersBefore, target.readRegisters(1), "the guest's registers changed");
            // Still held before its first instruction: a debugger attaching now steps from the entry.
            target.attach();
            byte[] pc = target.readRegister(1, target.description().register("rip").orElseThrow().regnum());
            assertEquals(guest.image().entry(), ByteBuffer.wrap(pc).order(ByteOrder.LITTLE_ENDIAN).getLong());
            CompletableFuture<StopEvent> step = new CompletableFuture<>();
            target.resume(ResumeRequest.all(new ResumeRequest.Step(0)), step::complete);
            assertInstanceOf(StopEvent.Signal.class, step.get(SAFETY_SECONDS, TimeUnit.SECONDS));
            // No breakpoint was left behind: the guest runs its normal course to its exit.
            CompletableFuture<StopEvent> run = new CompletableFuture<>();
            target.resume(ResumeRequest.all(new ResumeRequest.Continue(0)), run::complete);
            assertInstanceOf(StopEvent.Exited.class, run.get(SAFETY_SECONDS, TimeUnit.SECONDS));
            assertTrue(serial.toString(StandardCharsets.US_ASCII).contains("Mars: "), "the guest's output: " + serial);
        }
    }
}

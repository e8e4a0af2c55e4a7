package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.kvmgdb.core.session.SessionWarmup;
import org.kvmgdb.core.target.StopEvent;

/**
 * The session warm-up reads a guest held before its first instruction (the launcher's {@code -S})
 * and must leave it exactly as it was: every byte of RAM, every register, no breakpoint, still held
 * where it was, and the guest then runs to its normal end.
 */
class SessionWarmupKvmTest {
    @RegisterExtension
    final KvmTargetHarness kvm = new KvmTargetHarness();

    @Test
    void aWarmUpLeavesTheHeldGuestsMemoryRegistersAndRunStateAsTheyWere() throws Exception {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        Vm vm = kvm.boot(1, serial, TestGuest.MODE_RUN);
        KvmTarget target = kvm.own(new KvmTarget(vm, TestGuest.x86()));
        byte[] ramBefore = kvm.raw(0, (int) TestGuest.RAM);
        byte[] registersBefore = target.readRegisters(1);

        SessionWarmup warmup = SessionWarmup.start(target, true);
        warmup.awaitEnd();

        assertTrue(warmup.rounds() > 0, "the warm-up served no round of its script");
        assertArrayEquals(registersBefore, target.readRegisters(1), "registers changed");
        assertArrayEquals(ramBefore, kvm.raw(0, (int) TestGuest.RAM), "guest RAM changed");
        // Still held at its entry: the debugger that attaches next steps its very first instruction.
        target.attach();
        long entry = kvm.rip(1);
        assertEquals(TestGuest.address("_start"), entry);
        assertInstanceOf(StopEvent.Signal.class, kvm.step(1));
        assertNotEquals(entry, kvm.rip(1));
        // No breakpoint was left planted (the warm-up's Z0 is at the pc): the guest runs to its end.
        assertEquals(new StopEvent.Exited(TestGuest.EXIT_STATUS), kvm.continueAll());
        assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
    }
}

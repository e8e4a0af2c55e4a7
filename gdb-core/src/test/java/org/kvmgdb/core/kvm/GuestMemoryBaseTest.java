package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.Platform;

/** Guest RAM whose first byte is not at guest-physical 0: addresses stay guest-physical, the host offset is theirs minus the base. */
class GuestMemoryBaseTest {
    private static final long BASE = 0x4000_0000L;
    private static final long SIZE = 1 << 20;

    @Test
    void guestPhysicalAddressesAreOffsetByTheBase() {
        GuestMemory memory = GuestMemory.allocate(BASE, SIZE);
        try {
            assertEquals(BASE, memory.base());
            memory.write(BASE + 0x100, new byte[] {1, 2, 3}, 0, 3);
            memory.writeLong(BASE + SIZE - 8, 0x1122_3344_5566_7788L);

            byte[] back = new byte[3];
            memory.read(BASE + 0x100, back, 0, 3);
            assertArrayEquals(new byte[] {1, 2, 3}, back);
            assertEquals(0x1122_3344_5566_7788L, memory.readLong(BASE + SIZE - 8));
            // The host mapping holds them at the offset from the base, where KVM's slot puts them for the guest.
            ByteBuffer host = memory.view(BASE, (int) SIZE);
            assertEquals(1, host.get(0x100));
            assertEquals(0x1122_3344_5566_7788L, host.getLong((int) SIZE - 8));
            assertEquals(memory.hostAddress() + 0x100, memory.hostAddress(BASE + 0x100));
        } finally {
            memory.unmap();
        }
    }

    @Test
    void addressesBelowTheBaseOrPastTheEndAreRefused() {
        GuestMemory memory = GuestMemory.allocate(BASE, SIZE);
        try {
            byte[] one = new byte[1];
            assertFalse(memory.contains(0x100, 1));
            assertTrue(memory.contains(BASE, 1));
            IndexOutOfBoundsException low = assertThrows(IndexOutOfBoundsException.class, () -> memory.read(0x100, one, 0, 1));
            assertTrue(low.getMessage().contains("0x40000000 .. 0x400fffff"), low.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> memory.write(BASE - 1, one, 0, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> memory.readLong(BASE + SIZE - 4));
        } finally {
            memory.unmap();
        }
    }

    @Test
    void aVmOnAPlatformWithRamAtANonZeroBaseRegistersItsSlotThere() {
        TestGuest.assumeKvm();
        Platform platform = new Platform(BASE, Platform.Device.mmio(0x0900_0000L), Platform.Device.mmio(0x0a00_0000L));
        try (Kvm kvm = Kvm.open();
             Vm vm = kvm.createVm(new Vm.Config(2 * SIZE, 1, OutputStream.nullOutputStream(), platform))) {
            assertEquals(BASE, vm.memory().base());
            assertEquals(2 * SIZE, vm.memory().size());
            vm.memory().write(BASE + SIZE, new byte[] {42}, 0, 1);
            vm.syncInstructionCache(BASE + SIZE, 1); // inside RAM: accepted
            assertThrows(IndexOutOfBoundsException.class, () -> vm.syncInstructionCache(0x1000, 1));
        }
    }

    @Test
    void thePcPlatformIsWhatAVmConfigDefaultsTo() {
        Vm.Config config = new Vm.Config(2 * SIZE, 1, OutputStream.nullOutputStream());
        assertEquals(Platform.PC, config.platform());
        assertEquals(0, Platform.PC.ramBase());
        assertEquals(new Platform.Device(Platform.Bus.PORT_IO, 0x3F8), Platform.PC.serial());
        assertEquals(new Platform.Device(Platform.Bus.PORT_IO, 0xF4), Platform.PC.exit());
    }
}

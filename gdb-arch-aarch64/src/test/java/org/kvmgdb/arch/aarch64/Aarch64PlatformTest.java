package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.Platform;

/** The memory map issue 5 promises AArch64 guests, as the VMM will read it. */
class Aarch64PlatformTest {

    @Test
    void ramStartsAtOneGibibyte() {
        assertEquals(0x4000_0000L, Aarch64Platform.VIRT.ramBase());
    }

    @Test
    void theSerialPortIsThePl011DataRegisterOnMmio() {
        assertEquals(Platform.Bus.MMIO, Aarch64Platform.VIRT.serial().bus());
        assertEquals(0x0900_0000L, Aarch64Platform.VIRT.serial().address());
    }

    @Test
    void theExitRegisterIsOnMmio() {
        assertEquals(Platform.Bus.MMIO, Aarch64Platform.VIRT.exit().bus());
        assertEquals(0x0a00_0000L, Aarch64Platform.VIRT.exit().address());
    }

    @Test
    void noDeviceLiesInRam() {
        Platform p = Aarch64Platform.VIRT;
        assertTrue(p.serial().address() + 4 <= p.ramBase(), "PL011 below RAM");
        assertTrue(p.exit().address() + 4 <= p.ramBase(), "exit register below RAM");
    }

    @Test
    void theProvidersBootStateUsesTheVirtPlatform() {
        // The VMM makes its RAM slot and devices from this, so the boot state and the map cannot disagree.
        assertEquals(Aarch64Platform.VIRT, new Aarch64ArchitectureProvider().bootState().orElseThrow().platform());
    }
}

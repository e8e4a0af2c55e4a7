package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.Platform;

/** x86-64 guests keep the PC layout they always had: RAM at 0, COM1 at port 0x3F8, isa-debug-exit at port 0xF4. */
class X86PlatformTest {

    @Test
    void theBootStateDescribesThePc() {
        Platform platform = new X86_64ArchitectureProvider().bootState().orElseThrow().platform();
        assertEquals(0, platform.ramBase());
        assertEquals(Platform.Device.port(0x3F8), platform.serial());
        assertEquals(Platform.Device.port(0xF4), platform.exit());
    }
}

package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PacketLogTest {

    @Test
    void nonPrintableBytesAreShownAsEscapes() {
        byte[] payload = {'X', '0', ',', '2', ':', 0x00, (byte) 0xff, '\\'};
        assertEquals("X0,2:\\x00\\xff\\x5c", PacketLog.printable(payload));
        assertEquals("qSupported:swbreak+", PacketLog.printable("qSupported:swbreak+".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void longPacketsAreCutWithTheirLength() {
        byte[] big = new byte[5000];
        Arrays.fill(big, (byte) 'a');
        String shown = PacketLog.printable(big);
        assertTrue(shown.endsWith("... (5000 bytes)"), shown);
        assertTrue(shown.length() < 500);
    }
}

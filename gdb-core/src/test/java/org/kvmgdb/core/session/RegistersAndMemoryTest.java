package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/** g G p P m M X against a MemoryTarget: r0 r1 sp pc (8 bytes) flags (4) v0 (16); 0x100 bytes of memory at 0x1000. */
class RegistersAndMemoryTest {
    private static final int G_SIZE = 8 * 4 + 4 + 16;

    private ServedTarget served;
    private MemoryTarget target;
    private RspClient gdb;

    @BeforeEach
    void start() throws Exception {
        target = MemoryTarget.builder(TestDescriptions.small(), "pc").memory(0x1000, 0x100).entry(0x1040).build();
        served = new ServedTarget(target);
        gdb = served.connect();
    }

    @AfterEach
    void stop() throws Exception {
        gdb.close();
        served.close();
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed + 7 * i);
        }
        return b;
    }

    @Test
    void gShowsTheRegisterFileInLayoutOrder() throws Exception {
        String g = gdb.request("g");
        assertEquals(2 * G_SIZE, g.length());
        // pc is register 3 at byte offset 24, little-endian.
        assertEquals("4010000000000000", g.substring(2 * 24, 2 * 32));
    }

    @Test
    void gWritesEveryRegisterAndReadsBack() throws Exception {
        byte[] registers = pattern(G_SIZE, 1);
        assertEquals("OK", gdb.request("G" + Hex.encode(registers)));
        assertArrayEquals(registers, target.readRegisters(1));
        assertEquals(Hex.encode(registers), gdb.request("g"));
    }

    @Test
    void gOfTheWrongSizeIsRefused() throws Exception {
        assertEquals("E16", gdb.request("G" + Hex.encode(pattern(G_SIZE - 1, 1))));
        assertEquals("E16", gdb.request("G" + Hex.encode(pattern(G_SIZE + 4, 1))));
        assertEquals(0x1040, target.pc(1));
    }

    @Test
    void singleRegisters() throws Exception {
        assertEquals("4010000000000000", gdb.request("p3"));
        assertEquals("OK", gdb.request("P0=efbeadde00000000"));
        assertEquals(0xdeadbeefL, target.register(1, "r0"));
        assertEquals("OK", gdb.request("P4=01000080"));
        assertEquals(0x80000001L, target.register(1, "flags"));
        byte[] v0 = pattern(16, 3);
        assertEquals("OK", gdb.request("P5=" + Hex.encode(v0)));
        assertEquals(Hex.encode(v0), gdb.request("p5"));
        // No register 6; a value of the wrong size.
        assertEquals("E16", gdb.request("p6"));
        assertEquals("E16", gdb.request("P6=00"));
        assertEquals("E16", gdb.request("P0=0102"));
        assertEquals(0xdeadbeefL, target.register(1, "r0"));
    }

    @Test
    void memoryReadAndHexWrite() throws Exception {
        target.poke(0x1010, new byte[] {1, 2, 3, (byte) 0xff});
        assertEquals("010203ff", gdb.request("m1010,4"));
        assertEquals("OK", gdb.request("M1020,3:a1b2c3"));
        assertArrayEquals(new byte[] {(byte) 0xa1, (byte) 0xb2, (byte) 0xc3}, target.peek(0x1020, 3));
        assertEquals("a1b2c3", gdb.request("m1020,3"));
    }

    @Test
    void binaryWriteCarriesEveryByteValue() throws Exception {
        byte[] data = new byte[256];
        for (int i = 0; i < 256; i++) {
            data[i] = (byte) i; // includes 0x00, '#', '$', '}', '*'
        }
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.writeBytes("X1000,100:".getBytes(StandardCharsets.US_ASCII));
        packet.writeBytes(RspClient.escape(data));
        assertEquals("OK", new String(gdb.requestBytes(packet.toByteArray()), StandardCharsets.US_ASCII));
        assertArrayEquals(data, target.peek(0x1000, 256));
        assertEquals(Hex.encode(data), gdb.request("m1000,100"));
    }

    @Test
    void binaryWriteWithOnlySpecialBytes() throws Exception {
        byte[] data = {'#', '$', '}', 0x00, '*', 0x00, '}'};
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.writeBytes("X1080,7:".getBytes(StandardCharsets.US_ASCII));
        packet.writeBytes(RspClient.escape(data));
        assertEquals("OK", new String(gdb.requestBytes(packet.toByteArray()), StandardCharsets.US_ASCII));
        assertArrayEquals(data, target.peek(0x1080, 7));
        // gdb's probe for X.
        assertEquals("OK", gdb.request("X1000,0:"));
    }

    @Test
    void readsPastTheEndReturnWhatIsThereAndOutsideIsAnError() throws Exception {
        target.poke(0x10f8, pattern(8, 9));
        assertEquals(Hex.encode(pattern(8, 9)), gdb.request("m10f8,10"));
        assertEquals("E0e", gdb.request("m1100,4"));
        assertEquals("E0e", gdb.request("m0,4"));
        assertEquals("E0e", gdb.request("mffffffffffffff00,4"));
    }

    @Test
    void writesThatDoNotFitAreRefusedWithoutEffect() throws Exception {
        assertEquals("E0e", gdb.request("M10fe,4:01020304"));
        assertArrayEquals(new byte[2], target.peek(0x10fe, 2));
        assertEquals("E0e", gdb.request("M2000,1:01"));
    }
}

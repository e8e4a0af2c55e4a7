package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The devices against kvm_run bytes laid out as the kernel writes them for KVM_EXIT_IO and KVM_EXIT_MMIO. */
class DevicesTest {
    private static final int DATA_OFFSET = 4096; // the kernel puts I/O data in the page after struct kvm_run

    private final ByteArrayOutputStream serial = new ByteArrayOutputStream();
    private final Devices devices = new Devices(serial);
    private final ByteBuffer run = ByteBuffer.allocate(2 * 4096).order(ByteOrder.LITTLE_ENDIAN);

    private VmExit out(int port, int size, long value) {
        io(1, port, size);
        for (int i = 0; i < size; i++) {
            run.put(DATA_OFFSET + i, (byte) (value >>> (8 * i)));
        }
        return devices.portIo(run);
    }

    private long in(int port, int size) {
        io(0, port, size);
        assertNull(devices.portIo(run));
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (run.get(DATA_OFFSET + i) & 0xFF);
        }
        return v;
    }

    private void io(int direction, int port, int size) {
        run.put(KvmIoctl.Run.IO_DIRECTION, (byte) direction)
                .put(KvmIoctl.Run.IO_SIZE, (byte) size)
                .putShort(KvmIoctl.Run.IO_PORT, (short) port)
                .putInt(KvmIoctl.Run.IO_COUNT, 1)
                .putLong(KvmIoctl.Run.IO_DATA_OFFSET, DATA_OFFSET);
    }

    @Test
    void bytesWrittenToCom1GoToTheSerialOutput() {
        assertNull(out(0x3F8, 1, 'o'));
        assertNull(out(0x3F8, 1, 'k'));
        assertEquals("ok", serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void com1SaysItsTransmitterIsEmpty() {
        assertEquals(0x60, in(0x3FD, 1));
    }

    @Test
    void theDivisorLatchIsNotOutput() {
        out(0x3FB, 1, 0x80); // LCR.DLAB
        out(0x3F8, 1, 0x01); // divisor low byte: 115200 baud
        out(0x3F9, 1, 0x00);
        out(0x3FB, 1, 0x03); // 8N1, DLAB off
        out(0x3F8, 1, 'x');
        assertEquals("x", serial.toString(StandardCharsets.US_ASCII));
        assertEquals(0x03, in(0x3FB, 1));
    }

    @Test
    void theExitPortEndsTheVmWithQemusStatus() {
        VmExit exit = out(0xF4, 4, 0x21);
        assertEquals(VmExit.Kind.EXIT_PORT, exit.kind());
        assertEquals((0x21 << 1) | 1, exit.status());
        assertEquals(1, out(0xF4, 1, 0).status());
    }

    @Test
    void unknownPortsReadAsAllOnesAndIgnoreWrites() {
        assertEquals(0xFF, in(0x60, 1));
        assertEquals(0xFFFF_FFFFL, in(0xCF8, 4));
        assertNull(out(0x80, 1, 0x12));
        assertEquals("", serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void mmioReadsOfNothingAreAllOnes() {
        run.putLong(KvmIoctl.Run.MMIO_PHYS_ADDR, 0xFEE0_0000L).putInt(KvmIoctl.Run.MMIO_LEN, 4).put(KvmIoctl.Run.MMIO_IS_WRITE, (byte) 0);
        devices.mmio(run);
        assertEquals(0xFFFF_FFFF, run.getInt(KvmIoctl.Run.MMIO_DATA));
    }
}

package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.Platform;

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

    // ---- a platform with its devices on MMIO (an AArch64 virt-like map; gdb-core only sees the description) ----

    private static final long MMIO_SERIAL = 0x0900_0000L;
    private static final long MMIO_EXIT = 0x0a00_0000L;
    private final Devices mmioDevices = new Devices(serial,
            new Platform(0x4000_0000L, Platform.Device.mmio(MMIO_SERIAL), Platform.Device.mmio(MMIO_EXIT)));

    /** Lays out kvm_run.mmio as the kernel does for a guest store (include/uapi/linux/kvm.h: phys_addr, data[8], len, is_write). */
    private VmExit mmioWrite(Devices on, long address, int length, long value) {
        run.putLong(KvmIoctl.Run.MMIO_PHYS_ADDR, address).putInt(KvmIoctl.Run.MMIO_LEN, length).put(KvmIoctl.Run.MMIO_IS_WRITE, (byte) 1);
        run.putLong(KvmIoctl.Run.MMIO_DATA, 0);
        for (int i = 0; i < length; i++) {
            run.put(KvmIoctl.Run.MMIO_DATA + i, (byte) (value >>> (8 * i)));
        }
        return on.mmio(run);
    }

    /** A guest load: the kernel hands data[] to the guest after the next KVM_RUN. */
    private long mmioRead(Devices on, long address, int length) {
        run.putLong(KvmIoctl.Run.MMIO_PHYS_ADDR, address).putInt(KvmIoctl.Run.MMIO_LEN, length).put(KvmIoctl.Run.MMIO_IS_WRITE, (byte) 0);
        run.putLong(KvmIoctl.Run.MMIO_DATA, 0x5A5A_5A5A_5A5A_5A5AL); // stale bytes the device must overwrite
        assertNull(on.mmio(run));
        return run.getLong(KvmIoctl.Run.MMIO_DATA) & (length == 8 ? -1L : (1L << (8 * length)) - 1);
    }

    @Test
    void storesToAnMmioSerialDataRegisterGoToTheSerialOutput() {
        assertNull(mmioWrite(mmioDevices, MMIO_SERIAL, 4, 'o')); // str w1, [x0]: a 32-bit store
        assertNull(mmioWrite(mmioDevices, MMIO_SERIAL, 1, 'k')); // strb
        assertEquals("ok", serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void anMmioSerialReadsAsZeroAndIgnoresOtherOffsets() {
        assertEquals(0, mmioRead(mmioDevices, MMIO_SERIAL, 4));
        assertNull(mmioWrite(mmioDevices, MMIO_SERIAL + 1, 1, 'x')); // inside the register, not its first byte
        assertEquals("", serial.toString(StandardCharsets.US_ASCII));
    }

    /** UARTFR's bits (ARM DDI 0183): TXFE 7, TXFF 5, RXFE 4, BUSY 3. */
    private static final int TXFE = 1 << 7, TXFF = 1 << 5, RXFE = 1 << 4, BUSY = 1 << 3;

    @Test
    void thePl011FlagRegisterSaysTransmitFifoEmptyNotFullNotBusyAndNothingReceived() {
        long fr = mmioRead(mmioDevices, MMIO_SERIAL + 0x18, 4); // ldr w1, [x0, #0x18]
        assertEquals(TXFE | RXFE, fr);
        assertEquals(0, fr & (TXFF | BUSY));
        assertEquals(TXFE | RXFE, mmioRead(mmioDevices, MMIO_SERIAL + 0x18, 1)); // ldrb
    }

    @Test
    void aGuestThatPollsTxffBeforeEachByteGetsItsWholeLineOut() {
        // Linux's pl011 earlycon putc: while (readl(FR) & TXFF) cpu_relax(); writel(c, DR); while (readl(FR) & BUSY).
        for (char c : "hello\n".toCharArray()) {
            int polls = 0;
            while ((mmioRead(mmioDevices, MMIO_SERIAL + 0x18, 4) & TXFF) != 0) {
                assertTrue(++polls < 1000, "TXFF never cleared");
            }
            assertNull(mmioWrite(mmioDevices, MMIO_SERIAL, 4, c));
            assertEquals(0, mmioRead(mmioDevices, MMIO_SERIAL + 0x18, 4) & BUSY);
        }
        assertEquals("hello\n", serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void pl011SetUpWritesAreNotOutputAndItsOtherRegistersReadZero() {
        assertNull(mmioWrite(mmioDevices, MMIO_SERIAL + 0x30, 4, 0x301)); // UARTCR: UARTEN | TXE | RXE
        assertNull(mmioWrite(mmioDevices, MMIO_SERIAL + 0x24, 4, 13)); // UARTIBRD
        assertNull(mmioWrite(mmioDevices, MMIO_SERIAL + 0x2C, 4, 0x70)); // UARTLCR_H: 8 bits, FIFOs on
        assertEquals("", serial.toString(StandardCharsets.US_ASCII));
        assertEquals(0, mmioRead(mmioDevices, MMIO_SERIAL + 0x30, 4));
        assertEquals(0, mmioRead(mmioDevices, MMIO_SERIAL + 0xFFC, 4)); // last register of the page
        assertEquals(0xFFFF_FFFFL, mmioRead(mmioDevices, MMIO_SERIAL + 0x1000, 4), "the page after the PL011 is nothing");
    }

    @Test
    void anMmioExitRegisterEndsTheVmWithQemusStatus() {
        VmExit exit = mmioWrite(mmioDevices, MMIO_EXIT, 4, 0x21);
        assertNotNull(exit);
        assertEquals(VmExit.Kind.EXIT_PORT, exit.kind());
        assertEquals((0x21 << 1) | 1, exit.status());
        assertEquals(1, mmioWrite(mmioDevices, MMIO_EXIT, 8, 0).status()); // str x1: a 64-bit store of 0
        assertEquals(0, mmioRead(mmioDevices, MMIO_EXIT, 4));
    }

    @Test
    void onAnMmioPlatformThePcPortsAreNothing() {
        Devices onMmio = mmioDevices;
        io(1, 0xF4, 4);
        run.putInt(DATA_OFFSET, 0x21);
        assertNull(onMmio.portIo(run), "port 0xF4 is no exit register on this platform");
        io(1, 0x3F8, 1);
        run.put(DATA_OFFSET, (byte) 'x');
        assertNull(onMmio.portIo(run));
        assertEquals("", serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void onAPcTheMmioAddressesAreNothing() {
        assertNull(mmioWrite(devices, MMIO_EXIT, 4, 0x21));
        assertNull(mmioWrite(devices, MMIO_SERIAL, 1, 'x'));
        assertEquals(0xFFFF_FFFFL, mmioRead(devices, MMIO_SERIAL, 4));
        assertEquals("", serial.toString(StandardCharsets.US_ASCII));
    }
}

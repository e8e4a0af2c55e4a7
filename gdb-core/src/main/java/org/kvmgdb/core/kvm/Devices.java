package org.kvmgdb.core.kvm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.kvmgdb.api.arch.Platform;
import org.tinylog.Logger;

/**
 * The guest's devices (DESIGN.md, guest ABI), where the {@link Platform} puts them: a serial port
 * (on port I/O, COM1 as far as a polling driver needs it; on MMIO, a PL011 as far as one needs it) and an exit
 * register with QEMU's {@code isa-debug-exit} status rule, and nothing else: other ports and MMIO
 * are logged once each and ignored, reads returning all ones as on an empty bus. Called from vCPU
 * threads.
 */
final class Devices {
    /** The exit register's width, as QEMU's {@code isa-debug-exit,iobase=0xf4,iosize=0x04}. */
    static final int EXIT_PORT_SIZE = 4;
    /** A 16550's register file on port I/O: THR/RBR/DLL at +0, IER/DLM +1, IIR/FCR +2, LCR +3, MCR +4, LSR +5, MSR +6, SCR +7. */
    private static final int UART_PORTS = 8;
    /** An MMIO serial port is a PL011: its registers fill one 4 KiB page (ARM DDI 0183, PrimeCell UART). */
    private static final int PL011_REGISTER_PAGE = 0x1000;
    /** PL011 UARTDR, the data register, at offset 0. */
    static final int PL011_UARTDR = 0x00;
    /** PL011 UARTFR, the flag register. */
    static final int PL011_UARTFR = 0x18;
    /**
     * UARTFR as an idle PL011 with nothing received shows it (and QEMU's pl011 after reset): TXFE
     * (bit 7, transmit FIFO empty) and RXFE (bit 4, receive FIFO empty); TXFF (bit 5) and BUSY
     * (bit 3) clear, so a guest that polls either before or after writing UARTDR goes on, and a guest
     * that polls RXFE for input waits rather than reading zeros.
     */
    static final int PL011_FR_IDLE = 0x90;

    private final Uart uart;
    private final OutputStream serialOutput;
    private final Platform.Device serial;
    private final Platform.Device exit;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    /** A PC's devices: COM1 at 0x3F8 and the exit port at 0xF4. */
    Devices(OutputStream serialOutput) {
        this(serialOutput, Platform.PC);
    }

    Devices(OutputStream serialOutput, Platform platform) {
        this.serialOutput = serialOutput;
        this.uart = new Uart(serialOutput);
        this.serial = platform.serial();
        this.exit = platform.exit();
    }

    /**
     * Serves a KVM_EXIT_IO.
     *
     * @return how the VM ends when the guest wrote to the exit port, else null
     */
    VmExit portIo(ByteBuffer run) {
        boolean in = (run.get(KvmIoctl.Run.IO_DIRECTION) & 0xFF) == KvmIoctl.Run.KVM_EXIT_IO_IN;
        int size = run.get(KvmIoctl.Run.IO_SIZE) & 0xFF;
        int port = run.getShort(KvmIoctl.Run.IO_PORT) & 0xFFFF;
        int count = run.getInt(KvmIoctl.Run.IO_COUNT);
        int data = (int) run.getLong(KvmIoctl.Run.IO_DATA_OFFSET);
        for (int i = 0; i < count; i++) {
            int at = data + i * size;
            if (in) {
                put(run, at, size, in(port, size));
            } else {
                long value = get(run, at, size);
                if (within(exit, Platform.Bus.PORT_IO, port, EXIT_PORT_SIZE)) {
                    return VmExit.exitPort(value);
                }
                out(port, size, value);
            }
        }
        return null;
    }

    /**
     * Serves a KVM_EXIT_MMIO: the platform's MMIO serial port (a PL011 register page) and exit
     * register, nothing else.
     *
     * @return how the VM ends when the guest wrote to the exit register, else null
     */
    VmExit mmio(ByteBuffer run) {
        long address = run.getLong(KvmIoctl.Run.MMIO_PHYS_ADDR);
        int length = run.getInt(KvmIoctl.Run.MMIO_LEN);
        boolean write = run.get(KvmIoctl.Run.MMIO_IS_WRITE) != 0;
        int bytes = Math.min(length, 8); // kvm_run.mmio.data is 8 bytes
        if (within(exit, Platform.Bus.MMIO, address, EXIT_PORT_SIZE)) {
            if (write) {
                return VmExit.exitPort(get(run, KvmIoctl.Run.MMIO_DATA, bytes));
            }
            put(run, KvmIoctl.Run.MMIO_DATA, bytes, 0); // reads as 0, as isa-debug-exit does
            return null;
        }
        if (within(serial, Platform.Bus.MMIO, address, PL011_REGISTER_PAGE)) {
            long offset = address - serial.address();
            if (write && offset == PL011_UARTDR) {
                transmit(serialOutput, (int) run.get(KvmIoctl.Run.MMIO_DATA) & 0xFF);
            } else if (!write) {
                // UARTFR says idle; UARTDR and the rest (baud divisors, UARTLCR_H, UARTCR, masks) read 0: nothing is ever received.
                put(run, KvmIoctl.Run.MMIO_DATA, bytes, offset == PL011_UARTFR ? PL011_FR_IDLE : 0);
            }
            // Other writes (a driver setting UARTIBRD, UARTLCR_H, UARTCR) change nothing a polling guest can see.
            return null;
        }
        once(String.format("MMIO %s of %d bytes at 0x%x: no device there, %s", write ? "write" : "read", length, address,
                write ? "ignored" : "reads as all ones"));
        if (!write) {
            put(run, KvmIoctl.Run.MMIO_DATA, bytes, -1L);
        }
        return null;
    }

    /** Whether {@code address} is one of the {@code size} bytes of {@code device}, if the device is on {@code bus}. */
    private static boolean within(Platform.Device device, Platform.Bus bus, long address, int size) {
        return device.bus() == bus && address - device.address() >= 0 && address - device.address() < size;
    }

    private long in(int port, int size) {
        if (within(serial, Platform.Bus.PORT_IO, port, UART_PORTS) && size == 1) {
            return uart.read((int) (port - serial.address()));
        }
        if (within(exit, Platform.Bus.PORT_IO, port, EXIT_PORT_SIZE)) {
            return 0; // isa-debug-exit reads as 0 in QEMU
        }
        once(String.format("port read of %d bytes at 0x%x: no device there, reads as all ones", size, port));
        return -1L;
    }

    private void out(int port, int size, long value) {
        if (within(serial, Platform.Bus.PORT_IO, port, UART_PORTS) && size == 1) {
            uart.write((int) (port - serial.address()), (int) value & 0xFF);
            return;
        }
        once(String.format("port write of %d bytes at 0x%x: no device there, ignored", size, port));
    }

    private static void transmit(OutputStream output, int value) {
        try {
            output.write(value);
            output.flush();
        } catch (IOException e) {
            Logger.warn("serial output failed, byte dropped: {}", e.getMessage());
        }
    }

    private void once(String message) {
        if (reported.add(message)) {
            Logger.info("{} (logged once)", message);
        }
    }

    private static long get(ByteBuffer run, int at, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (run.get(at + i) & 0xFF);
        }
        return v;
    }

    private static void put(ByteBuffer run, int at, int size, long value) {
        for (int i = 0; i < size; i++) {
            run.put(at + i, (byte) (value >>> (8 * i)));
        }
    }

    /**
     * A 16550 as much as a polling guest uses it: bytes written to THR go out at once, LSR always
     * says the transmitter is empty and no byte was received, the other registers keep what was
     * written. With LCR.DLAB set, offsets 0 and 1 are the divisor latch, not THR/IER.
     */
    static final class Uart {
        /** LSR bits 5 (THRE) and 6 (TEMT): transmitter holding register and shifter empty. */
        static final int LSR_TRANSMITTER_EMPTY = 0x60;
        /** IIR with bit 0 set: no interrupt pending. */
        static final int IIR_NO_INTERRUPT = 0x01;
        private static final int THR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
        private static final int LCR_DLAB = 0x80;

        private final OutputStream output;
        private final int[] registers = new int[8];
        private int divisorLow, divisorHigh;

        Uart(OutputStream output) {
            this.output = output;
        }

        synchronized int read(int offset) {
            boolean dlab = (registers[LCR] & LCR_DLAB) != 0;
            switch (offset) {
                case THR: return dlab ? divisorLow : 0; // RBR: nothing is ever received
                case IER: return dlab ? divisorHigh : registers[IER];
                case IIR: return IIR_NO_INTERRUPT;
                case LSR: return LSR_TRANSMITTER_EMPTY;
                case MSR: return 0;
                default: return registers[offset];
            }
        }

        synchronized void write(int offset, int value) {
            boolean dlab = (registers[LCR] & LCR_DLAB) != 0;
            if (offset == THR && !dlab) {
                transmit(value);
            } else if (offset == THR) {
                divisorLow = value;
            } else if (offset == IER && dlab) {
                divisorHigh = value;
            } else if (offset != LSR && offset != IIR) { // LSR is read-only; IIR's write side is FCR, nothing to keep
                registers[offset] = value;
            }
        }

        private void transmit(int value) {
            Devices.transmit(output, value);
        }
    }
}

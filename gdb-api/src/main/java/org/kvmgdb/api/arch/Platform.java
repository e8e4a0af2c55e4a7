package org.kvmgdb.api.arch;

import java.util.Objects;

/**
 * Where an architecture's guest ABI puts RAM and the two devices {@code kvmgdb run} emulates. The
 * VMM builds its memory slot and devices from this alone, so it needs no architecture knowledge.
 *
 * <ul>
 *   <li>{@code serial} on {@link Bus#PORT_IO}: a 16550 at {@code address .. address+7} as a polling
 *       driver uses it (THR at +0, LSR at +5 reads 0x60: transmitter empty).</li>
 *   <li>{@code serial} on {@link Bus#MMIO}: a PL011 at {@code address .. address+0xFFF} as a polling
 *       driver uses it: the low byte of each write to UARTDR (+0) goes out; UARTFR (+0x18) reads 0x90
 *       (TXFE and RXFE: transmit FIFO empty, so not full, and nothing received); the other registers
 *       read 0 and ignore writes.</li>
 *   <li>{@code exit} on either bus: 4 bytes at {@code address}; writing {@code v} ends the VM with
 *       exit status {@code (v << 1) | 1} (QEMU's {@code isa-debug-exit} rule); reads are 0.</li>
 * </ul>
 *
 * @param ramBase guest-physical address of the first RAM byte, page aligned
 * @param serial  the console, to the VMM's serial output
 * @param exit    the exit register
 */
public record Platform(long ramBase, Device serial, Device exit) {

    /** The PC layout every BootState had before platforms were described: RAM at 0, COM1 at port 0x3F8, isa-debug-exit at port 0xF4. */
    public static final Platform PC = new Platform(0, Device.port(0x3F8), Device.port(0xF4));

    public Platform {
        Objects.requireNonNull(serial, "serial");
        Objects.requireNonNull(exit, "exit");
        if (ramBase < 0 || (ramBase & 0xFFF) != 0) {
            throw new IllegalArgumentException(String.format("RAM base must be 4 KiB aligned and non-negative, was 0x%x", ramBase));
        }
    }

    /** How the guest reaches a device: KVM reports it as KVM_EXIT_IO or KVM_EXIT_MMIO. */
    public enum Bus {
        PORT_IO, MMIO
    }

    /** A device's first register. */
    public record Device(Bus bus, long address) {
        public Device {
            Objects.requireNonNull(bus, "bus");
            if (bus == Bus.PORT_IO && (address < 0 || address > 0xFFFF)) {
                throw new IllegalArgumentException(String.format("I/O ports are 16 bits, 0x%x is not one", address));
            }
        }

        public static Device port(int port) {
            return new Device(Bus.PORT_IO, port);
        }

        public static Device mmio(long guestPhysical) {
            return new Device(Bus.MMIO, guestPhysical);
        }
    }
}

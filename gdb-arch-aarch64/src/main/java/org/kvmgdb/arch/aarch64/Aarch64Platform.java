package org.kvmgdb.arch.aarch64;

import org.kvmgdb.api.arch.Platform;

/**
 * The AArch64 guest ABI's memory map (issue 5, "Boot state for arm64 hosts"), laid out as QEMU's
 * {@code virt} machine does: RAM at guest-physical 1 GiB, a PL011 whose data register UARTDR is at
 * 0x0900_0000, and an exit register at 0x0a00_0000 with the {@code (v << 1) | 1} status rule.
 *
 * <p>{@link Aarch64BootState#platform()} returns {@link #VIRT}; the VMM builds its RAM slot and
 * devices from it.
 */
public final class Aarch64Platform {
    /** QEMU virt's RAM base (hw/arm/virt.c, {@code VIRT_MEM}). */
    public static final long RAM_BASE = 0x4000_0000L;
    /** QEMU virt's PL011 ({@code VIRT_UART}); UARTDR is at offset 0. */
    public static final long PL011_DATA_REGISTER = 0x0900_0000L;
    /** The exit register; writing v ends the VM with status {@code (v << 1) | 1}. */
    public static final long EXIT_REGISTER = 0x0a00_0000L;

    public static final Platform VIRT = new Platform(RAM_BASE,
            Platform.Device.mmio(PL011_DATA_REGISTER), Platform.Device.mmio(EXIT_REGISTER));

    private Aarch64Platform() {
    }
}

package org.kvmgdb.launcher;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.core.registry.ProviderRegistry;
import org.tinylog.Level;

/**
 * {@code kvmgdb run}'s command line, parsed and validated: what starting the guest needs.
 *
 * @param guest           the guest ELF file; it exists and is a readable regular file
 * @param gdb             where to wait for gdb ({@code --gdb} or {@code -s}), parsed by its transport
 *                        provider but not bound yet; empty when the guest simply runs
 * @param waitForDebugger {@code -S}/{@code --wait}: every vCPU stops before its first instruction
 *                        until a debugger attaches (only with {@code gdb} present)
 * @param cpus            number of vCPUs, at least 1
 * @param memoryBytes     guest RAM in bytes: at least 1 MiB, a multiple of 4 KiB
 * @param logLevel        the level tinylog was configured with
 * @param logPackets      {@code --log-packets}: log every RSP packet
 * @param allowRemote     {@code --gdb-allow-remote} (already applied when {@code gdb} was parsed)
 * @param registry        the architectures and transports found; pick the guest's architecture with
 *                        {@link ProviderRegistry#architectureForElfMachine}
 */
public record RunConfiguration(Path guest, Optional<TransportAddress> gdb, boolean waitForDebugger, int cpus,
        long memoryBytes, Level logLevel, boolean logPackets, boolean allowRemote, ProviderRegistry registry) {

    public RunConfiguration {
        Objects.requireNonNull(guest, "guest");
        Objects.requireNonNull(gdb, "gdb");
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(registry, "registry");
        if (cpus < 1) {
            throw new IllegalArgumentException("cpus must be at least 1, was " + cpus);
        }
        if (waitForDebugger && gdb.isEmpty()) {
            throw new IllegalArgumentException("waiting for a debugger needs a gdb address");
        }
    }
}

package org.kvmgdb.core.registry;

/**
 * A provider that could not be used and was left out (SLF4J's style: logged, skipped, the rest
 * goes on).
 *
 * @param service  the SPI it claimed to implement, e.g. {@code org.kvmgdb.api.arch.ArchitectureProvider}
 * @param provider the provider class name when known, else a description of the broken entry
 * @param location the jar it came from when known, else {@code "(unknown location)"}
 * @param reason   why it was skipped (the error's message chain)
 */
public record SkippedProvider(String service, String provider, String location, String reason) {
}

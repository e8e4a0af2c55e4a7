package org.kvmgdb.core.registry;

import java.nio.file.Path;
import java.util.Optional;

/**
 * One provider the registry accepted, with where its class was loaded from.
 *
 * @param provider the provider instance
 * @param key      its id (architectures) or scheme (transports)
 * @param location the jar (or class directory) the provider class came from, from its
 *                 {@link java.security.CodeSource}; empty when the class loader gave none
 */
public record ProviderEntry<P>(P provider, String key, Optional<Path> location) {

    /** The location for messages and listings: the jar's path, or {@code "(unknown location)"}. */
    public String locationText() {
        return location.map(Path::toString).orElse("(unknown location)");
    }
}

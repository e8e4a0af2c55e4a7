package org.kvmgdb.launcher;

import java.util.Objects;
import org.kvmgdb.core.registry.ProviderRegistry;
import org.tinylog.Level;

/**
 * {@code kvmgdb demo}'s command line.
 *
 * @param attach   {@code --attach}: also start gdb attached to the demo guest, symbols loaded
 * @param logLevel the level tinylog was configured with
 * @param registry the architectures and transports found
 */
public record DemoConfiguration(boolean attach, Level logLevel, ProviderRegistry registry) {
    public DemoConfiguration {
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(registry, "registry");
    }
}

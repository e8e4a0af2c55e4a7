package org.kvmgdb.core.registry;

import java.util.Optional;

/**
 * The user's explicit picks, normally from {@code -Dkvmgdb.arch=ID} and
 * {@code -Dkvmgdb.transport=SCHEME}. A pick narrows what the registry offers to that one
 * provider; the others are still listed. An empty or blank value means no pick.
 */
public record Selection(Optional<String> architecture, Optional<String> transport) {

    public static final String ARCH_PROPERTY = "kvmgdb.arch";
    public static final String TRANSPORT_PROPERTY = "kvmgdb.transport";

    /** No explicit pick: every provider found is offered. */
    public static final Selection NONE = new Selection(Optional.empty(), Optional.empty());

    public Selection {
        architecture = architecture.map(String::strip).filter(s -> !s.isEmpty());
        transport = transport.map(String::strip).filter(s -> !s.isEmpty());
    }

    /** Reads {@code kvmgdb.arch} and {@code kvmgdb.transport} from the system properties. */
    public static Selection fromSystemProperties() {
        return new Selection(Optional.ofNullable(System.getProperty(ARCH_PROPERTY)),
                Optional.ofNullable(System.getProperty(TRANSPORT_PROPERTY)));
    }
}

package org.kvmgdb.api.transport;

/**
 * Choices the user made on the command line that a transport must honour.
 *
 * @param allowRemote {@code --gdb-allow-remote}: listening on a non-loopback address is allowed
 */
public record TransportOptions(boolean allowRemote) {

    /** The safe default: loopback only. */
    public static final TransportOptions DEFAULTS = new TransportOptions(false);
}

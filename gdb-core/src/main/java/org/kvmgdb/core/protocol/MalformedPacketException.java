package org.kvmgdb.core.protocol;

/**
 * Thrown inside the packet parsers when a packet does not follow its grammar. The family parsers
 * catch it and return {@link Command.Malformed}: it never leaves this package's public methods
 * except from {@link Hex}, whose callers are parsers too.
 */
public final class MalformedPacketException extends Exception {
    public MalformedPacketException(String message) {
        super(message, null, false, false);
    }
}

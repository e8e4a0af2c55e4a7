package org.kvmgdb.api.transport;

/** A {@code --gdb} value that is malformed or refused. The message is shown to the user as it is. */
public class TransportAddressException extends IllegalArgumentException {
    public TransportAddressException(String message) {
        super(message);
    }
}

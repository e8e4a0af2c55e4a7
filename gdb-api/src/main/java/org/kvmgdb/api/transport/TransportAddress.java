package org.kvmgdb.api.transport;

import java.io.IOException;

/** A parsed, validated address that has not been bound yet. */
public interface TransportAddress {

    /** Binds and starts listening. */
    Listener bind() throws IOException;

    /** The address as a user would write it after {@code --gdb}, e.g. {@code tcp:127.0.0.1:1234}. */
    String describe();
}

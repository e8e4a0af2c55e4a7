package org.kvmgdb.archfixture.clean.transport.serial;

/** Fixture: a transport implements the API. */
public class SerialTransport implements org.kvmgdb.archfixture.clean.api.Spi {
    @Override
    public java.util.List<String> names() {
        return java.util.List.of("serial");
    }
}

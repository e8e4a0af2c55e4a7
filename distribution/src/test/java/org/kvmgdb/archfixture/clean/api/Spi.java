package org.kvmgdb.archfixture.clean.api;

/** Fixture: an SPI that depends on the JDK only. */
public interface Spi {
    java.util.List<String> names();
}

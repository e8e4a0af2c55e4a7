package org.kvmgdb.archfixture.apileak.api;

/** Fixture: an SPI class that uses a logging library (forbidden: the JDK only). */
public class LoggingApi {
    public void hello() {
        org.tinylog.Logger.info("hello");
    }
}

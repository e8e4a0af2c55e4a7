package org.kvmgdb.archfixture.apileak.api;

/** Fixture: an SPI that exposes a core type (forbidden). */
public interface LeakyProvider {
    org.kvmgdb.archfixture.apileak.core.Vmm vmm();
}

package org.kvmgdb.archfixture.clean.core.kvm;

/** Fixture: core may use the API and JNA. */
public class Kvm {
    public int use(org.kvmgdb.archfixture.clean.api.Spi spi) {
        return spi.names().size() + com.sun.jna.Native.POINTER_SIZE;
    }
}

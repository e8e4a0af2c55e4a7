package org.kvmgdb.archfixture.jna.core.kvm;

/** Fixture: JNA inside core (allowed). */
public class Kvm {
    public long pageSize() {
        return com.sun.jna.Native.POINTER_SIZE;
    }
}

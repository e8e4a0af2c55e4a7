package org.kvmgdb.archfixture.archcore.core;

/** Fixture: a core class. */
public class Vmm {
    public static Vmm instance() {
        return new Vmm();
    }
}

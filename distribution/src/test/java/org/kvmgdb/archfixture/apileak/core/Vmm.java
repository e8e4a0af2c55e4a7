package org.kvmgdb.archfixture.apileak.core;

/** Fixture: a core class. */
public class Vmm {
    public void run() {
    }
}

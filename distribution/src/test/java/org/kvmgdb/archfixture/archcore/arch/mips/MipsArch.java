package org.kvmgdb.archfixture.archcore.arch.mips;

/** Fixture: an architecture that reaches into core (forbidden). */
public class MipsArch {
    public Object vm() {
        return org.kvmgdb.archfixture.archcore.core.Vmm.instance();
    }
}

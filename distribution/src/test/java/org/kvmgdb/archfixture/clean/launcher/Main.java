package org.kvmgdb.archfixture.clean.launcher;

/** Fixture: the launcher may use everything. */
public class Main {
    public static int start(org.kvmgdb.archfixture.clean.api.Spi spi) {
        return new org.kvmgdb.archfixture.clean.core.kvm.Kvm().use(spi)
                + new org.kvmgdb.archfixture.clean.arch.mips.MipsArch().names().size();
    }
}

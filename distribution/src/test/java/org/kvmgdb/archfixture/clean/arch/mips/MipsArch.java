package org.kvmgdb.archfixture.clean.arch.mips;

/** Fixture: an architecture implements the API and logs. */
public class MipsArch implements org.kvmgdb.archfixture.clean.api.Spi {
    @Override
    public java.util.List<String> names() {
        org.tinylog.Logger.debug("names");
        return java.util.List.of("mips");
    }
}

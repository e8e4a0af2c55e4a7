package org.kvmgdb.archfixture.cycle.core.kvm;

/** Fixture: ... and kvm uses session: a package cycle (forbidden). */
public class Vcpu {
    org.kvmgdb.archfixture.cycle.core.session.Session session;
}

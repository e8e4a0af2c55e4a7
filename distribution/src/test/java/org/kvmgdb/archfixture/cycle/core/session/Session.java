package org.kvmgdb.archfixture.cycle.core.session;

/** Fixture: session uses kvm ... */
public class Session {
    org.kvmgdb.archfixture.cycle.core.kvm.Vcpu vcpu;
}

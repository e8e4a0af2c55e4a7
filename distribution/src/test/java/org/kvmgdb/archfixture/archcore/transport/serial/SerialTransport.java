package org.kvmgdb.archfixture.archcore.transport.serial;

/** Fixture: a transport that reaches into core (forbidden). */
public class SerialTransport {
    org.kvmgdb.archfixture.archcore.core.Vmm vmm;
}

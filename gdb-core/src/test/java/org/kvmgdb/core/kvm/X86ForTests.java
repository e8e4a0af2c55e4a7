package org.kvmgdb.core.kvm;

import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.arch.x86.X86_64ArchitectureProvider;

/** The real x86-64 plugin, which the VM tests boot and debug their guest with (a test-scope dependency of gdb-core). */
final class X86ForTests {
    private static final ArchitectureProvider PROVIDER = new X86_64ArchitectureProvider();

    private X86ForTests() {
    }

    static ArchitectureProvider provider() {
        return PROVIDER;
    }
}

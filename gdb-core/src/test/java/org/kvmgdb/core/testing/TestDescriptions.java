package org.kvmgdb.core.testing;

import java.util.List;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.TypeDefinition;

/** Made-up register tables for tests that need no real architecture. */
public final class TestDescriptions {
    private TestDescriptions() {
    }

    /**
     * {@code r0 r1 sp pc} (8 bytes each) and {@code flags} (4 bytes) in one feature, and a 16-byte
     * {@code v0} in a second: a 52-byte {@code g} packet with registers of three sizes.
     */
    public static TargetDescription small() {
        Feature core = new Feature("org.kvmgdb.test.core", List.of(
                new TypeDefinition.Flags("test_flags", 4, List.of(TypeDefinition.BitField.bit("Z", 0)))), List.of(
                new RegisterDescriptor("r0", 64, "int", "general", 0),
                new RegisterDescriptor("r1", 64, "int", "general", 1),
                new RegisterDescriptor("sp", 64, "data_ptr", "general", 2),
                new RegisterDescriptor("pc", 64, "code_ptr", "general", 3),
                new RegisterDescriptor("flags", 32, "test_flags", "general", 4)));
        Feature vector = new Feature("org.kvmgdb.test.vector", List.of(), List.of(
                new RegisterDescriptor("v0", 128, "uint128", "vector", 5)));
        return new TargetDescription("kvmgdb-test", null, List.of(core, vector));
    }
}

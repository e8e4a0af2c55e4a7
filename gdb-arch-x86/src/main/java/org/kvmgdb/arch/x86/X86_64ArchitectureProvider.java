package org.kvmgdb.arch.x86;

import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.TargetDescription;

/**
 * x86-64 (long mode). Registered in {@code META-INF/services/org.kvmgdb.api.arch.ArchitectureProvider}.
 *
 * <p>This class offers the register table and {@code int3}; the KVM-side capabilities
 * ({@link #registerAccess()}, {@link #guestDebug()}, {@link #stopClassifier()},
 * {@link #addressTranslator()}, {@link #bootState()}) keep the interface's empty defaults here and
 * are added as overrides by the code that implements them.
 */
public class X86_64ArchitectureProvider implements ArchitectureProvider {
    public static final String ID = "x86-64";

    /** {@code EM_X86_64} (include/uapi/linux/elf-em.h). */
    public static final int EM_X86_64 = 62;

    @Override
    public String id() {
        return ID;
    }

    @Override
    public int elfMachine() {
        return EM_X86_64;
    }

    @Override
    public TargetDescription targetDescription() {
        return X86Registers.targetDescription();
    }

    @Override
    public SoftwareBreakpoint softwareBreakpoint() {
        return Int3Breakpoint.INSTANCE;
    }
}

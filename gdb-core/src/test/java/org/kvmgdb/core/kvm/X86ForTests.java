package org.kvmgdb.core.kvm;

import java.util.Optional;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.arch.x86.X86BootState;
import org.kvmgdb.arch.x86.X86GuestDebug;
import org.kvmgdb.arch.x86.X86PageWalker;
import org.kvmgdb.arch.x86.X86RegisterAccess;
import org.kvmgdb.arch.x86.X86StopClassifier;
import org.kvmgdb.arch.x86.X86_64ArchitectureProvider;

/**
 * The real x86-64 plugin. Its provider class offers the KVM capabilities once they are wired into
 * it; until then the same classes are put together here.
 */
final class X86ForTests {
    private X86ForTests() {
    }

    static ArchitectureProvider provider() {
        X86_64ArchitectureProvider base = new X86_64ArchitectureProvider();
        TargetDescription description = base.targetDescription();
        RegisterAccess registers = base.registerAccess().orElseGet(() -> new X86RegisterAccess(description));
        GuestDebug guestDebug = base.guestDebug().orElseGet(X86GuestDebug::new);
        StopClassifier classifier = base.stopClassifier().orElseGet(X86StopClassifier::new);
        AddressTranslator translator = base.addressTranslator().orElseGet(X86PageWalker::new);
        BootState boot = base.bootState().orElseGet(X86BootState::new);
        return new ArchitectureProvider() {
            @Override
            public String id() {
                return base.id();
            }

            @Override
            public int elfMachine() {
                return base.elfMachine();
            }

            @Override
            public TargetDescription targetDescription() {
                return description;
            }

            @Override
            public SoftwareBreakpoint softwareBreakpoint() {
                return base.softwareBreakpoint();
            }

            @Override
            public Optional<RegisterAccess> registerAccess() {
                return Optional.of(registers);
            }

            @Override
            public Optional<GuestDebug> guestDebug() {
                return Optional.of(guestDebug);
            }

            @Override
            public Optional<StopClassifier> stopClassifier() {
                return Optional.of(classifier);
            }

            @Override
            public Optional<AddressTranslator> addressTranslator() {
                return Optional.of(translator);
            }

            @Override
            public Optional<BootState> bootState() {
                return Optional.of(boot);
            }
        };
    }
}

package org.kvmgdb.launcher;

import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.arch.TargetDescription;

/**
 * The real x86-64 plugin without register access: it boots guests but cannot debug them. Not listed
 * as a provider on the test class path; {@link KvmGuestRunnerTest} installs it as a plugin of its own.
 */
public final class NoRegisterAccess implements ArchitectureProvider {
    // The class path's providers, not this plugin's loader (which would find this class again).
    private final ArchitectureProvider real = ServiceLoader.load(ArchitectureProvider.class, ArchitectureProvider.class.getClassLoader())
            .stream().map(ServiceLoader.Provider::get).filter(p -> p.id().equals("x86-64")).findFirst().orElseThrow();

    @Override public String id() { return "x86-64-no-registers"; }
    @Override public int elfMachine() { return real.elfMachine(); }
    @Override public TargetDescription targetDescription() { return real.targetDescription(); }
    @Override public SoftwareBreakpoint softwareBreakpoint() { return real.softwareBreakpoint(); }
    @Override public Optional<RegisterAccess> registerAccess() { return Optional.empty(); }
    @Override public Optional<GuestDebug> guestDebug() { return real.guestDebug(); }
    @Override public Optional<StopClassifier> stopClassifier() { return real.stopClassifier(); }
    @Override public Optional<AddressTranslator> addressTranslator() { return real.addressTranslator(); }
    @Override public Optional<BootState> bootState() { return real.bootState(); }
    @Override public List<MonitorCommand> monitorCommands() { return real.monitorCommands(); }
}

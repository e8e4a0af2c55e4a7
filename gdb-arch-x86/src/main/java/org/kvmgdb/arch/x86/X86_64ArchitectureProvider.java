package org.kvmgdb.arch.x86;

import java.util.List;
import java.util.Optional;
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
 * x86-64 (long mode). Registered in {@code META-INF/services/org.kvmgdb.api.arch.ArchitectureProvider}.
 *
 * <p>Offers every capability: the register table and {@code int3}, registers through
 * KVM_GET/SET_REGS/SREGS/MSRS/XSAVE, KVM_SET_GUEST_DEBUG encoding (DR0–DR3, DR7), classification of both
 * {@code int3} exit shapes, a software page walker for every paging mode, and the long-mode boot state
 * of the guest ABI, and the {@code monitor} commands {@code info regs} and {@code info mem}. One instance serves every vCPU; the parts are stateless or cache only what the
 * host's KVM reports.
 */
public class X86_64ArchitectureProvider implements ArchitectureProvider {
    public static final String ID = "x86-64";

    /** {@code EM_X86_64} (include/uapi/linux/elf-em.h). */
    public static final int EM_X86_64 = 62;

    private final RegisterAccess registerAccess = new X86RegisterAccess(X86Registers.targetDescription());
    private final GuestDebug guestDebug = new X86GuestDebug();
    private final StopClassifier stopClassifier = new X86StopClassifier();
    private final AddressTranslator addressTranslator = new X86PageWalker();
    private final BootState bootState = new X86BootState();
    private final List<MonitorCommand> monitorCommands = List.of(new X86InfoRegs(), new X86InfoMem());

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

    @Override
    public Optional<RegisterAccess> registerAccess() {
        return Optional.of(registerAccess);
    }

    @Override
    public Optional<GuestDebug> guestDebug() {
        return Optional.of(guestDebug);
    }

    @Override
    public Optional<StopClassifier> stopClassifier() {
        return Optional.of(stopClassifier);
    }

    @Override
    public Optional<AddressTranslator> addressTranslator() {
        return Optional.of(addressTranslator);
    }

    @Override
    public Optional<BootState> bootState() {
        return Optional.of(bootState);
    }

    /** {@code info regs} (control, segment and debug registers decoded) and {@code info mem} (page-table mappings). */
    @Override
    public List<MonitorCommand> monitorCommands() {
        return monitorCommands;
    }
}

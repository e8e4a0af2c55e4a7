package org.kvmgdb.api.arch;

import java.util.List;
import java.util.Optional;

/**
 * An architecture plugin: one {@code META-INF/services/org.kvmgdb.api.arch.ArchitectureProvider}
 * line per implementation. Providers are stateless; per-vCPU state lives in the core.
 *
 * <p>Four things are required: an id, the ELF machine it runs, the register table (from which
 * the {@code g} packet layout and {@code target.xml} are both generated) and the software
 * breakpoint instruction. Everything else is an optional capability, offered by returning a
 * non-empty {@link Optional} (the gdbstub crate's pattern); the core advertises and serves the
 * matching protocol features only when the capability is present.
 */
public interface ArchitectureProvider {

    /** Short stable id, used with {@code -Dkvmgdb.arch=}, e.g. {@code "x86-64"}. */
    String id();

    /** The ELF {@code e_machine} this architecture runs (EM_X86_64 = 62, EM_AARCH64 = 183). */
    int elfMachine();

    /** The register table and the target description generated from it. */
    TargetDescription targetDescription();

    /** The breakpoint instruction and how to make patched code visible. */
    SoftwareBreakpoint softwareBreakpoint();

    /** Reading and writing registers of a KVM vCPU in {@code g} layout. */
    default Optional<RegisterAccess> registerAccess() {
        return Optional.empty();
    }

    /** Single-step and hardware breakpoint/watchpoint encoding into {@code KVM_SET_GUEST_DEBUG}. */
    default Optional<GuestDebug> guestDebug() {
        return Optional.empty();
    }

    /** Turning a {@code KVM_RUN} exit into a debug stop, and giving the guest back its own traps. */
    default Optional<StopClassifier> stopClassifier() {
        return Optional.empty();
    }

    /** Virtual to physical translation by a software page-table walk. */
    default Optional<AddressTranslator> addressTranslator() {
        return Optional.empty();
    }

    /** The CPU state and boot structures the guest ABI promises. */
    default Optional<BootState> bootState() {
        return Optional.empty();
    }

    /** Commands this architecture adds to gdb's {@code monitor} (e.g. {@code info regs}); none by default. */
    default List<MonitorCommand> monitorCommands() {
        return List.of();
    }
}

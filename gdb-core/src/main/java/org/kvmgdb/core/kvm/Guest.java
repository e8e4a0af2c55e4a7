package org.kvmgdb.core.kvm;

import java.nio.file.Path;
import java.util.List;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.core.elf.ElfException;
import org.kvmgdb.core.elf.ElfImage;

/**
 * What {@code kvmgdb run GUEST.elf} sets up, in the order its exit statuses need: the ELF is read,
 * matched to an architecture and checked against RAM first ({@link ElfException}: status 2, nothing
 * opened), then {@code /dev/kvm} is opened ({@link KvmUnavailableException}: status 3), then the VM is
 * created, loaded and booted. Nothing runs until {@link Vm#start()} or a debugger resumes it.
 */
public final class Guest implements AutoCloseable {
    private final Kvm kvm;
    private final Vm vm;
    private final ArchitectureProvider architecture;
    private final ElfImage image;
    private KvmTarget target;

    private Guest(Kvm kvm, Vm vm, ArchitectureProvider architecture, ElfImage image) {
        this.kvm = kvm;
        this.vm = vm;
        this.architecture = architecture;
        this.image = image;
    }

    /**
     * @param elf       the guest executable
     * @param providers the architectures available; the ELF's {@code e_machine} picks one
     * @param config    RAM, vCPUs, serial output
     */
    public static Guest boot(Path elf, List<ArchitectureProvider> providers, Vm.Config config) throws ElfException {
        ElfImage image = ElfImage.read(elf);
        return boot(image, image.architecture(providers), config);
    }

    /**
     * @param image the guest executable, already read
     * @param arch  the architecture chosen for its {@code e_machine} (the launcher asks the provider registry)
     */
    public static Guest boot(ElfImage image, ArchitectureProvider arch, Vm.Config config) throws ElfException {
        return boot(image, arch, config, Kvm.DEVICE);
    }

    /**
     * @param kvmDevice the KVM device to open instead of {@code /dev/kvm} (the launcher's
     *                  {@code -Dkvmgdb.device=PATH}, so tests can point it at a missing or forbidden file)
     */
    public static Guest boot(ElfImage image, ArchitectureProvider arch, Vm.Config config, Path kvmDevice) throws ElfException {
        BootState bootState = arch.bootState().orElseThrow(() -> new ElfException(
                image.name() + ": the " + arch.id() + " plugin cannot boot a guest (it offers no boot state)"));
        Vm.Config onPlatform = config.withPlatform(bootState.platform());
        image.checkFits(onPlatform.platform().ramBase(), onPlatform.memorySize(), Vm.RESERVED_LOW_MEMORY);
        Kvm kvm = Kvm.open(kvmDevice);
        try {
            Vm vm = kvm.createVm(onPlatform);
            try {
                image.loadInto(vm.memory(), Vm.RESERVED_LOW_MEMORY);
                vm.boot(bootState, image.entry());
                return new Guest(kvm, vm, arch, image);
            } catch (RuntimeException | ElfException e) {
                vm.close();
                throw e;
            }
        } catch (RuntimeException | ElfException e) {
            kvm.close();
            throw e;
        }
    }

    public Vm vm() {
        return vm;
    }

    public ArchitectureProvider architecture() {
        return architecture;
    }

    public ElfImage image() {
        return image;
    }

    /** The guest as a debugger sees it; one per guest, shared by every session that attaches. */
    public synchronized KvmTarget debugTarget() {
        if (target == null) {
            target = new KvmTarget(vm, architecture);
        }
        return target;
    }

    /** Ends the vCPU threads and the debug target's reporter thread, and releases the VM and /dev/kvm. */
    @Override
    public void close() {
        KvmTarget made;
        synchronized (this) {
            made = target;
        }
        try {
            vm.close();
        } finally {
            try {
                if (made != null) {
                    made.close();
                }
            } finally {
                kvm.close();
            }
        }
    }
}

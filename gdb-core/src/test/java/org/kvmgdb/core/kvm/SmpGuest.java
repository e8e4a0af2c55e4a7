package org.kvmgdb.core.kvm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.core.elf.ElfException;
import org.kvmgdb.core.elf.ElfImage;

/** The SMP guest the build compiles from src/test/c/smp.c (next to the test guest), its symbols, and a booted VM running it. */
final class SmpGuest {
    static final long RAM = 16L << 20;

    private static Map<String, long[]> symbols;

    private SmpGuest() {
    }

    static Path elf() {
        String property = System.getProperty("kvmgdb.testSmpGuest");
        Path path = property != null ? Path.of(property) : TestGuest.elf().resolveSibling("test-smp-guest.elf");
        if (!Files.exists(path)) {
            throw new IllegalStateException(path + " is missing: the Maven build compiles it from src/test/c/smp.c");
        }
        return path;
    }

    static long address(String symbol) {
        return symbol(symbol)[0];
    }

    static long size(String symbol) {
        return symbol(symbol)[1];
    }

    private static synchronized long[] symbol(String name) {
        if (symbols == null) {
            try {
                symbols = TestGuest.readSymbols(Files.readAllBytes(elf()));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        long[] s = symbols.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no symbol " + name + " in the SMP guest");
        }
        return s;
    }

    /** A VM with the SMP guest loaded and {@code vcpus} vCPUs booted at its entry, not started. */
    static Vm boot(Kvm kvm, int vcpus, OutputStream serial, ArchitectureProvider arch) throws ElfException {
        ElfImage image = ElfImage.read(elf());
        Vm vm = kvm.createVm(new Vm.Config(RAM, vcpus, serial));
        try {
            image.loadInto(vm.memory(), Vm.RESERVED_LOW_MEMORY);
            vm.boot(image.architecture(List.of(arch)).bootState().orElseThrow(), image.entry());
            return vm;
        } catch (RuntimeException | ElfException e) {
            vm.close();
            throw e;
        }
    }
}

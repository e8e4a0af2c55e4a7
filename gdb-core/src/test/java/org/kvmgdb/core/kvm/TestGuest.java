package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.core.elf.ElfException;
import org.kvmgdb.core.elf.ElfImage;

/**
 * The guest the build compiles from src/test/c/guest.c, its symbols, and a booted VM running it.
 * Tests that need it call {@link #assumeKvm()} first, which skips them with a message when
 * {@code /dev/kvm} is missing.
 */
public final class TestGuest {
    public static final long RAM = 16L << 20;
    /** What vCPU 0 prints on COM1. */
    static final String GREETING = "hello from the kvmgdb test guest\n";
    /** add(1,11) + add(2,22) + add(3,33) + scale({3,4}, 3) = 66 + 21 = 87, so (87 << 1) | 1. */
    static final int EXIT_STATUS = (87 << 1) | 1;
    /** guest.c's modes. */
    public static final int MODE_RUN = 0, MODE_SPIN = 1, MODE_HALT = 2, MODE_INT3 = 3;

    private static Map<String, long[]> symbols;

    private TestGuest() {
    }

    static void assumeKvm() {
        assumeTrue(Files.exists(Kvm.DEVICE), "/dev/kvm is missing: the KVM tests need it");
    }

    public static Path elf() {
        Path path = Path.of(System.getProperty("kvmgdb.testGuest", "target/test-guest.elf"));
        if (!Files.exists(path)) {
            throw new IllegalStateException(path + " is missing: the Maven build compiles it from src/test/c/guest.c");
        }
        return path;
    }

    /** A symbol's address (the guest is linked with virtual = physical). */
    public static long address(String symbol) {
        return symbol(symbol)[0];
    }

    /** A symbol's size in bytes, from the symbol table. */
    static long size(String symbol) {
        return symbol(symbol)[1];
    }

    private static synchronized long[] symbol(String name) {
        if (symbols == null) {
            try {
                symbols = readSymbols(Files.readAllBytes(elf()));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        long[] s = symbols.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no symbol " + name + " in the test guest");
        }
        return s;
    }

    /** .symtab entries by name: {value, size}. Elf64_Shdr and Elf64_Sym layouts from the gABI. */
    static Map<String, long[]> readSymbols(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long shoff = b.getLong(40);
        int shentsize = b.getShort(58) & 0xFFFF;
        int shnum = b.getShort(60) & 0xFFFF;
        Map<String, long[]> result = new HashMap<>();
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            if (b.getInt(sh + 4) != 2) { // SHT_SYMTAB
                continue;
            }
            long offset = b.getLong(sh + 24);
            long size = b.getLong(sh + 32);
            int link = b.getInt(sh + 40);
            long entsize = b.getLong(sh + 56);
            int strtab = (int) b.getLong((int) (shoff + (long) link * shentsize) + 24);
            for (long at = offset; at < offset + size; at += entsize) {
                int nameAt = strtab + b.getInt((int) at);
                int end = nameAt;
                while (bytes[end] != 0) {
                    end++;
                }
                result.put(new String(bytes, nameAt, end - nameAt), new long[] {b.getLong((int) at + 8), b.getLong((int) at + 16)});
            }
        }
        return result;
    }

    /**
     * A VM with the test guest loaded and its vCPUs booted, not started.
     *
     * @param mode guest.c's {@code mode}, written before the first instruction
     */
    public static Vm boot(Kvm kvm, int vcpus, OutputStream serial, int mode) throws ElfException {
        ElfImage image = ElfImage.read(elf());
        ArchitectureProvider arch = image.architecture(List.of(X86ForTests.provider()));
        Vm vm = kvm.createVm(new Vm.Config(RAM, vcpus, serial));
        try {
            image.loadInto(vm.memory(), Vm.RESERVED_LOW_MEMORY);
            vm.memory().write(address("mode"), le32(mode), 0, 4);
            vm.boot(arch.bootState().orElseThrow(), image.entry());
            return vm;
        } catch (RuntimeException | ElfException e) {
            vm.close();
            throw e;
        }
    }

    /** The real x86-64 plugin with its KVM capabilities. */
    public static ArchitectureProvider x86() {
        return X86ForTests.provider();
    }

    static byte[] le32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    static long le64(byte[] b, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xFF);
        }
        return v;
    }
}

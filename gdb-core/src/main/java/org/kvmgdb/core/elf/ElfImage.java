package org.kvmgdb.core.elf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.hypervisor.PhysicalMemory;

/**
 * A 64-bit little-endian ELF executable as the guest ABI loads it: every {@code PT_LOAD} segment at
 * its physical address ({@code p_paddr}), the bytes past {@code p_filesz} up to {@code p_memsz}
 * zeroed, execution starting at {@code e_entry}. Layout from the System V gABI, "ELF Header" and
 * "Program Header" (include/uapi/linux/elf.h names the same fields).
 *
 * <p>Every refusal is an {@link ElfException} with one line of explanation, found before any
 * memory is touched.
 */
public final class ElfImage {
    // e_ident
    private static final byte[] MAGIC = {0x7F, 'E', 'L', 'F'};
    /** e_ident[EI_CLASS]: ELFCLASS32 = 1, ELFCLASS64 = 2. */
    private static final int EI_CLASS = 4, ELFCLASS32 = 1, ELFCLASS64 = 2;
    /** e_ident[EI_DATA]: ELFDATA2LSB = 1, ELFDATA2MSB = 2. */
    private static final int EI_DATA = 5, ELFDATA2LSB = 1, ELFDATA2MSB = 2;

    // Elf64_Ehdr
    /** Elf64_Half e_type: ET_EXEC = 2, ET_DYN = 3. */
    private static final int E_TYPE = 16;
    /** Elf64_Half e_machine */
    private static final int E_MACHINE = 18;
    /** Elf64_Addr e_entry */
    private static final int E_ENTRY = 24;
    /** Elf64_Off e_phoff */
    private static final int E_PHOFF = 32;
    /** Elf64_Half e_phentsize */
    private static final int E_PHENTSIZE = 54;
    /** Elf64_Half e_phnum */
    private static final int E_PHNUM = 56;
    /** sizeof(Elf64_Ehdr) */
    private static final int EHDR_SIZE = 64;

    // Elf64_Phdr
    /** Elf64_Word p_type: PT_LOAD = 1 */
    private static final int P_TYPE = 0, PT_LOAD = 1;
    /** Elf64_Off p_offset */
    private static final int P_OFFSET = 8;
    /** Elf64_Addr p_vaddr */
    private static final int P_VADDR = 16;
    /** Elf64_Addr p_paddr */
    private static final int P_PADDR = 24;
    /** Elf64_Xword p_filesz */
    private static final int P_FILESZ = 32;
    /** Elf64_Xword p_memsz */
    private static final int P_MEMSZ = 40;
    /** sizeof(Elf64_Phdr) */
    private static final int PHDR_SIZE = 56;

    /** e_machine names for messages (gABI's list, the machines people are likely to hand us). */
    private static final Map<Integer, String> MACHINES = Map.ofEntries(
            Map.entry(3, "EM_386 (32-bit x86)"),
            Map.entry(8, "EM_MIPS"),
            Map.entry(20, "EM_PPC"),
            Map.entry(21, "EM_PPC64"),
            Map.entry(22, "EM_S390"),
            Map.entry(40, "EM_ARM (32-bit Arm)"),
            Map.entry(62, "EM_X86_64"),
            Map.entry(183, "EM_AARCH64"),
            Map.entry(243, "EM_RISCV"),
            Map.entry(258, "EM_LOONGARCH"));

    /**
     * A {@code PT_LOAD} segment.
     *
     * @param physicalAddress {@code p_paddr}, where it is loaded
     * @param virtualAddress  {@code p_vaddr}, for messages
     * @param fileOffset      {@code p_offset}
     * @param fileSize        {@code p_filesz}
     * @param memorySize      {@code p_memsz}; the part past fileSize is zeroed
     */
    public record Segment(long physicalAddress, long virtualAddress, long fileOffset, long fileSize, long memorySize) {
    }

    private final String name;
    private final byte[] bytes;
    private final int machine;
    private final long entry;
    private final List<Segment> segments;

    private ElfImage(String name, byte[] bytes, int machine, long entry, List<Segment> segments) {
        this.name = name;
        this.bytes = bytes;
        this.machine = machine;
        this.entry = entry;
        this.segments = Collections.unmodifiableList(segments);
    }

    /** Reads and parses a file; an unreadable file is refused like a malformed one. */
    public static ElfImage read(Path file) throws ElfException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ElfException(file + ": cannot read it: " + e.getMessage());
        }
        return parse(file.toString(), bytes);
    }

    /**
     * Parses the ELF header and program headers.
     *
     * @param name for messages, usually the path
     */
    public static ElfImage parse(String name, byte[] bytes) throws ElfException {
        if (bytes.length < MAGIC.length || !startsWithMagic(bytes)) {
            throw new ElfException(name + ": not an ELF file (no \\x7fELF magic at the start); give kvmgdb the guest's ELF executable");
        }
        if (bytes.length <= EI_DATA) {
            throw new ElfException(name + ": truncated ELF file (" + bytes.length + " bytes, the ELF header needs " + EHDR_SIZE + "); build or copy it again");
        }
        int elfClass = bytes[EI_CLASS];
        if (elfClass == ELFCLASS32) {
            throw new ElfException(name + ": 32-bit ELF (ELFCLASS32); kvmgdb runs 64-bit ELF executables only: build the guest as a 64-bit program");
        }
        if (elfClass != ELFCLASS64) {
            throw new ElfException(name + ": unknown ELF class " + elfClass + " (expected ELFCLASS64 = 2)");
        }
        int data = bytes[EI_DATA];
        if (data == ELFDATA2MSB) {
            throw new ElfException(name + ": big-endian ELF (ELFDATA2MSB); kvmgdb runs little-endian guests only");
        }
        if (data != ELFDATA2LSB) {
            throw new ElfException(name + ": unknown ELF data encoding " + data + " (expected ELFDATA2LSB = 1)");
        }
        if (bytes.length < EHDR_SIZE) {
            throw new ElfException(name + ": truncated ELF file (" + bytes.length + " bytes, the ELF header needs " + EHDR_SIZE + "); build or copy it again");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(E_TYPE) & 0xFFFF;
        if (type == 3) {
            // Nothing relocates a guest: its segments load at the physical addresses it was linked for.
            throw new ElfException(name + ": a position-independent executable (ET_DYN); link the guest with -no-pie -static at a fixed address");
        }
        if (type != 2) {
            throw new ElfException(name + ": not an executable (e_type " + type + "; expected ET_EXEC = 2)");
        }
        int machine = b.getShort(E_MACHINE) & 0xFFFF;
        long entry = b.getLong(E_ENTRY);
        long phoff = b.getLong(E_PHOFF);
        int phentsize = b.getShort(E_PHENTSIZE) & 0xFFFF;
        int phnum = b.getShort(E_PHNUM) & 0xFFFF;
        if (phnum == 0) {
            throw new ElfException(name + ": no program headers, nothing to load");
        }
        if (phentsize < PHDR_SIZE) {
            throw new ElfException(name + ": program header entries of " + phentsize + " bytes, Elf64_Phdr needs " + PHDR_SIZE);
        }
        if (phoff < 0 || phoff > bytes.length || (long) phentsize * phnum > bytes.length - phoff) {
            throw new ElfException(name + ": truncated ELF file (" + phnum + " program headers at offset " + phoff
                    + " run past its end at " + bytes.length + " bytes); build or copy it again");
        }
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + (long) i * phentsize);
            if (b.getInt(at + P_TYPE) != PT_LOAD) {
                continue;
            }
            Segment s = new Segment(b.getLong(at + P_PADDR), b.getLong(at + P_VADDR), b.getLong(at + P_OFFSET),
                    b.getLong(at + P_FILESZ), b.getLong(at + P_MEMSZ));
            if (s.fileSize() < 0 || s.fileOffset() < 0 || s.fileOffset() > bytes.length || s.fileSize() > bytes.length - s.fileOffset()) {
                throw new ElfException(String.format("%s: truncated ELF file (segment %d at paddr 0x%x needs file bytes 0x%x..0x%x, the file has 0x%x); build or copy it again",
                        name, i, s.physicalAddress(), s.fileOffset(), s.fileOffset() + s.fileSize(), bytes.length));
            }
            if (Long.compareUnsigned(s.memorySize(), s.fileSize()) < 0) {
                throw new ElfException(String.format("%s: segment %d at paddr 0x%x has p_memsz 0x%x smaller than p_filesz 0x%x",
                        name, i, s.physicalAddress(), s.memorySize(), s.fileSize()));
            }
            if (s.memorySize() != 0) {
                segments.add(s);
            }
        }
        if (segments.isEmpty()) {
            throw new ElfException(name + ": no PT_LOAD segment, nothing to load");
        }
        return new ElfImage(name, bytes, machine, entry, segments);
    }

    private static boolean startsWithMagic(byte[] bytes) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    public String name() {
        return name;
    }

    /** {@code e_machine}. */
    public int machine() {
        return machine;
    }

    /** {@code e_entry}, where every vCPU starts. */
    public long entry() {
        return entry;
    }

    public List<Segment> segments() {
        return segments;
    }

    /**
     * The provider that runs this ELF's machine.
     *
     * @throws ElfException naming the machine found and the ones available
     */
    public ArchitectureProvider architecture(List<ArchitectureProvider> providers) throws ElfException {
        for (ArchitectureProvider p : providers) {
            if (p.elfMachine() == machine) {
                return p;
            }
        }
        String available = providers.isEmpty() ? "none (no architecture plugin was found)"
                : providers.stream().map(p -> p.id() + " (" + machineName(p.elfMachine()) + ")").collect(Collectors.joining(", "));
        throw new ElfException(name + ": built for " + machineName(machine) + ", which kvmgdb cannot run; available architectures: " + available);
    }

    /** "EM_X86_64 = 62", or "e_machine 1234" for one we have no name for. */
    public static String machineName(int machine) {
        String known = MACHINES.get(machine);
        return known != null ? known + " = " + machine : "e_machine " + machine;
    }

    /**
     * Checks every segment lies in RAM at guest-physical 0 above the reserved low memory.
     *
     * @param ramSize       bytes of RAM at guest-physical 0
     * @param reservedBytes the VMM's own low memory
     */
    public void checkFits(long ramSize, long reservedBytes) throws ElfException {
        checkFits(0, ramSize, reservedBytes);
    }

    /**
     * Checks every segment lies in RAM above the reserved bytes at its start.
     *
     * @param ramBase       guest-physical address of the first RAM byte (the platform's)
     * @param ramSize       bytes of RAM
     * @param reservedBytes the VMM's own bytes at the start of RAM
     */
    public void checkFits(long ramBase, long ramSize, long reservedBytes) throws ElfException {
        long lowest = ramBase + reservedBytes;
        long ramEnd = ramBase + ramSize;
        for (Segment s : segments) {
            long start = s.physicalAddress();
            long end = start + s.memorySize();
            if (Long.compareUnsigned(start, ramBase) >= 0 && Long.compareUnsigned(start, lowest) < 0) {
                throw new ElfException(ramBase == 0
                        ? String.format("%s: segment at paddr 0x%x lies in the first %d KiB, which the VMM reserves for"
                                + " page tables and GDT; link the guest at 0x%x or above (the tests use 1 MiB)", name, start, reservedBytes / 1024, lowest)
                        : String.format("%s: segment at paddr 0x%x lies in the first %d KiB of RAM (at 0x%x), which the VMM reserves for"
                                + " its boot structures; link the guest at 0x%x or above", name, start, reservedBytes / 1024, ramBase, lowest));
            }
            if (Long.compareUnsigned(start, ramBase) < 0 || Long.compareUnsigned(end, start) < 0 || Long.compareUnsigned(end, ramEnd) > 0) {
                throw new ElfException(String.format("%s: segment at paddr 0x%x..0x%x lies outside RAM (%s..0x%x, %d MiB); give more --memory or link it lower",
                        name, start, end, ramBase == 0 ? "0" : "0x" + Long.toHexString(ramBase), ramEnd, ramSize >> 20));
            }
        }
    }

    /** Copies the segments into guest memory (at its {@link PhysicalMemory#base()}) after {@link #checkFits}, zeroing each one's tail. */
    public void loadInto(PhysicalMemory memory, long reservedBytes) throws ElfException {
        checkFits(memory.base(), memory.size(), reservedBytes);
        for (Segment s : segments) {
            memory.write(s.physicalAddress(), bytes, (int) s.fileOffset(), (int) s.fileSize());
            long zeros = s.memorySize() - s.fileSize();
            byte[] zero = new byte[(int) Math.min(zeros, 1 << 16)];
            for (long done = 0; done < zeros; done += zero.length) {
                int n = (int) Math.min(zero.length, zeros - done);
                memory.write(s.physicalAddress() + s.fileSize() + done, zero, 0, n);
            }
        }
    }
}

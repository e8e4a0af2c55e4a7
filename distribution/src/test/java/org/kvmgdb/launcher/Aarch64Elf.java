package org.kvmgdb.launcher;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A minimal AArch64 guest executable, written byte by byte since this x86 machine has no arm64
 * toolchain: an Elf64 header (EM_AARCH64) and one PT_LOAD of two instructions, {@code wfi; b .},
 * linked 1 MiB into the AArch64 guest ABI's RAM (guest-physical 0x4010_0000). Layout from the
 * System V gABI (include/uapi/linux/elf.h names the same fields).
 */
public final class Aarch64Elf {
    /** Where the code is loaded and where every vCPU would start. */
    public static final long ENTRY = 0x4010_0000L;
    /** {@code wfi} and {@code b .} (branch to itself), A64 encodings. */
    private static final int WFI = 0xd503207f, B_SELF = 0x14000000;
    private static final int EHDR_SIZE = 64, PHDR_SIZE = 56;

    private Aarch64Elf() {
    }

    public static Path write(Path file) throws IOException {
        int codeOffset = EHDR_SIZE + PHDR_SIZE;
        ByteBuffer b = ByteBuffer.allocate(codeOffset + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */});
        b.putShort(16, (short) 2);            // e_type ET_EXEC
        b.putShort(18, (short) 183);          // e_machine EM_AARCH64
        b.putInt(20, 1);                      // e_version
        b.putLong(24, ENTRY);                 // e_entry
        b.putLong(32, EHDR_SIZE);             // e_phoff
        b.putShort(52, (short) EHDR_SIZE);    // e_ehsize
        b.putShort(54, (short) PHDR_SIZE);    // e_phentsize
        b.putShort(56, (short) 1);            // e_phnum
        int ph = EHDR_SIZE;
        b.putInt(ph, 1);                      // p_type PT_LOAD
        b.putInt(ph + 4, 5);                  // p_flags R|X
        b.putLong(ph + 8, codeOffset);        // p_offset
        b.putLong(ph + 16, ENTRY);            // p_vaddr
        b.putLong(ph + 24, ENTRY);            // p_paddr
        b.putLong(ph + 32, 8);                // p_filesz
        b.putLong(ph + 40, 8);                // p_memsz
        b.putLong(ph + 48, 4);                // p_align
        b.putInt(codeOffset, WFI);
        b.putInt(codeOffset + 4, B_SELF);
        return Files.write(file, b.array());
    }
}

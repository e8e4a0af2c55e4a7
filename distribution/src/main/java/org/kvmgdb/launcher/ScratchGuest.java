package org.kvmgdb.launcher;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.core.elf.ElfImage;
import org.kvmgdb.core.kvm.Guest;
import org.kvmgdb.core.kvm.Vm;
import org.kvmgdb.core.session.SessionWarmup;

/**
 * A second, tiny VM for the session warm-up to drive while the stub waits for gdb: one vCPU in
 * 4 MiB of RAM looping over {@code nop; nop; nop; nop; jmp .-6} at 1 MiB. Its breakpoints, steps and
 * continues take the KVM paths a real session's take (KVM_SET_GUEST_DEBUG, KVM_RUN, the int3 and
 * single-step exits, the vCPU thread hand-off), so the JIT has compiled those too when gdb comes;
 * the user's guest is never given to the warm-up. Offered on x86-64 only (its code bytes are x86's),
 * unless {@code -Dkvmgdb.warmup=false} or {@code KVMGDB_WARMUP=0}.
 */
final class ScratchGuest {
    static final String PROPERTY = "kvmgdb.warmup";
    static final String ENVIRONMENT = "KVMGDB_WARMUP";
    /** EM_X86_64 (elf.h). */
    private static final int EM_X86_64 = 62;
    private static final long ENTRY = 0x100000;
    private static final long RAM = 4L << 20;
    /** nop x4; jmp rel8 -6 (back to the first nop). */
    private static final byte[] LOOP = {(byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0xEB, (byte) 0xFA};

    private ScratchGuest() {
    }

    /**
     * A maker of the scratch VM for {@code arch}, or null when none is offered: the warm-up is off, or
     * {@code arch} is not x86-64.
     */
    static Callable<SessionWarmup.Scratch> maker(ArchitectureProvider arch, Path kvmDevice) {
        return maker(arch, kvmDevice, System.getProperty(PROPERTY), System.getenv(ENVIRONMENT));
    }

    /** As {@link #maker(ArchitectureProvider, Path)}, with the property's and the environment variable's values given. */
    static Callable<SessionWarmup.Scratch> maker(ArchitectureProvider arch, Path kvmDevice, String property, String environment) {
        if (off(property) || off(environment) || arch.elfMachine() != EM_X86_64) {
            return null;
        }
        return () -> {
            Guest guest = Guest.boot(ElfImage.parse("kvmgdb warm-up loop", elf()), arch,
                    new Vm.Config(RAM, 1, OutputStream.nullOutputStream()), kvmDevice);
            return new SessionWarmup.Scratch(guest.debugTarget(), guest);
        };
    }

    private static boolean off(String value) {
        return value != null && (value.equals("0") || value.equalsIgnoreCase("false") || value.equalsIgnoreCase("off"));
    }

    /** An ELF64 executable (elf.h's Elf64_Ehdr and one Elf64_Phdr) with the loop as its only PT_LOAD segment. */
    static byte[] elf() {
        int ehdr = 64;
        int phdr = 56;
        ByteBuffer b = ByteBuffer.allocate(ehdr + phdr + LOOP.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */});
        b.position(16);
        b.putShort((short) 2);          // e_type: ET_EXEC
        b.putShort((short) EM_X86_64);  // e_machine
        b.putInt(1);                    // e_version
        b.putLong(ENTRY);               // e_entry
        b.putLong(ehdr);                // e_phoff
        b.putLong(0);                   // e_shoff
        b.putInt(0);                    // e_flags
        b.putShort((short) ehdr);       // e_ehsize
        b.putShort((short) phdr);       // e_phentsize
        b.putShort((short) 1);          // e_phnum
        b.putShort((short) 0);          // e_shentsize
        b.putShort((short) 0);          // e_shnum
        b.putShort((short) 0);          // e_shstrndx
        b.putInt(1);                    // p_type: PT_LOAD
        b.putInt(5);                    // p_flags: PF_R | PF_X
        b.putLong(ehdr + phdr);         // p_offset
        b.putLong(ENTRY);               // p_vaddr
        b.putLong(ENTRY);               // p_paddr
        b.putLong(LOOP.length);         // p_filesz
        b.putLong(LOOP.length);         // p_memsz
        b.putLong(0x1000);              // p_align
        b.put(LOOP);
        return b.array();
    }
}

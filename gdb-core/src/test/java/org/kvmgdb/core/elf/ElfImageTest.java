package org.kvmgdb.core.elf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.testing.TestMemory;

class ElfImageTest {
    private static final long MIB = 1 << 20;
    private static final long RAM = 16 * MIB;
    private static final long RESERVED = 64 * 1024;

    private static ElfException refused(byte[] bytes) {
        return assertThrows(ElfException.class, () -> {
            ElfImage image = ElfImage.parse("guest.elf", bytes);
            image.checkFits(RAM, RESERVED);
        });
    }

    private static void assertOneLine(ElfException e, String... fragments) {
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith("guest.elf: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void loadsSegmentsAtTheirPhysicalAddressAndZeroesTheRest() throws ElfException {
        ElfBuilder elf = new ElfBuilder().load(MIB, new byte[] {1, 2, 3, 4}, 0x10).load(2 * MIB, new byte[] {9}, 1);
        elf.entry = MIB + 2;
        TestMemory memory = TestMemory.flat((int) (4 * MIB));
        Arrays.fill(memory.bytes(), (byte) 0x55); // whatever was there must not show through the zeroed tail
        ElfImage image = ElfImage.parse("guest.elf", elf.build());
        image.loadInto(memory, RESERVED);

        assertEquals(MIB + 2, image.entry());
        assertEquals(2, image.segments().size());
        byte[] first = Arrays.copyOfRange(memory.bytes(), (int) MIB, (int) MIB + 0x11);
        byte[] expected = new byte[0x11];
        expected[0] = 1;
        expected[1] = 2;
        expected[2] = 3;
        expected[3] = 4;
        expected[0x10] = 0x55; // one past p_memsz is untouched
        assertArrayEquals(expected, first);
        assertEquals(9, memory.bytes()[(int) (2 * MIB)]);
    }

    @Test
    void refusesAFileThatIsNotElf() {
        assertOneLine(refused("#!/bin/sh\necho hi\n".getBytes()), "not an ELF file");
        assertOneLine(refused(new byte[0]), "not an ELF file");
    }

    @Test
    void refuses32BitElf() {
        ElfBuilder elf = new ElfBuilder().load(MIB, new byte[] {1}, 1);
        elf.elfClass = 1;
        assertOneLine(refused(elf.build()), "32-bit", "ELFCLASS32");
    }

    @Test
    void refusesBigEndianElf() {
        ElfBuilder elf = new ElfBuilder().load(MIB, new byte[] {1}, 1);
        elf.data = 2;
        assertOneLine(refused(elf.build()), "big-endian");
    }

    @Test
    void refusesAMachineNoProviderRunsNamingWhatIsAvailable() throws ElfException {
        ElfBuilder elf = new ElfBuilder().load(MIB, new byte[] {1}, 1);
        elf.machine = 243;
        ElfImage image = ElfImage.parse("guest.elf", elf.build());
        ArchitectureProvider x86 = provider("x86-64", 62);
        ArchitectureProvider arm = provider("aarch64", 183);
        ElfException e = assertThrows(ElfException.class, () -> image.architecture(List.of(x86, arm)));
        assertOneLine(e, "EM_RISCV = 243", "x86-64 (EM_X86_64 = 62)", "aarch64 (EM_AARCH64 = 183)");
    }

    @Test
    void choosesTheProviderOfTheElfMachine() throws ElfException {
        ElfImage image = ElfImage.parse("guest.elf", new ElfBuilder().load(MIB, new byte[] {1}, 1).build());
        ArchitectureProvider x86 = provider("x86-64", 62);
        assertSame(x86, image.architecture(List.of(provider("aarch64", 183), x86)));
    }

    @Test
    void refusesATruncatedHeader() {
        byte[] whole = new ElfBuilder().load(MIB, new byte[] {1}, 1).build();
        assertOneLine(refused(Arrays.copyOf(whole, 40)), "truncated");
    }

    @Test
    void refusesProgramHeadersPastTheEnd() {
        byte[] whole = new ElfBuilder().load(MIB, new byte[] {1}, 1).build();
        assertOneLine(refused(Arrays.copyOf(whole, 64 + 60)), "truncated", "program headers");
    }

    @Test
    void refusesASegmentWhoseBytesArePastTheEnd() {
        byte[] whole = new ElfBuilder().load(MIB, new byte[100], 100).build();
        assertOneLine(refused(Arrays.copyOf(whole, whole.length - 10)), "truncated", "segment");
    }

    @Test
    void refusesASegmentOutsideRam() {
        assertOneLine(refused(new ElfBuilder().load(RAM - 2, new byte[] {1, 2, 3, 4}, 4).build()), "outside RAM");
        assertOneLine(refused(new ElfBuilder().load(64 * MIB, new byte[] {1}, 1).build()), "outside RAM");
    }

    @Test
    void refusesASegmentInTheReservedLowMemory() {
        assertOneLine(refused(new ElfBuilder().load(0x8000, new byte[] {1}, 1).build()), "first 64 KiB", "reserves");
    }

    @Test
    void refusesAnElfWithoutLoadableSegments() {
        assertOneLine(refused(new ElfBuilder().build()), "no PT_LOAD");
    }

    private static ArchitectureProvider provider(String id, int machine) {
        return new ArchitectureProvider() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public int elfMachine() {
                return machine;
            }

            @Override
            public TargetDescription targetDescription() {
                return new TargetDescription(id, null, List.of());
            }

            @Override
            public SoftwareBreakpoint softwareBreakpoint() {
                return kind -> null;
            }
        };
    }

    // ---- RAM at a non-zero guest-physical base (an AArch64 virt-like map) ----

    private static final long RAM_BASE = 0x4000_0000L;

    @Test
    void loadsSegmentsIntoRamAtANonZeroBase() throws ElfException {
        TestMemory memory = TestMemory.flat(RAM_BASE, (int) (4 * MIB));
        Arrays.fill(memory.bytes(), (byte) 0x55);
        ElfImage image = ElfImage.parse("guest.elf", new ElfBuilder().load(RAM_BASE + MIB, new byte[] {1, 2, 3}, 4).build());
        image.loadInto(memory, RESERVED);

        assertArrayEquals(new byte[] {1, 2, 3, 0, 0x55}, Arrays.copyOfRange(memory.bytes(), (int) MIB, (int) MIB + 5),
                "guest-physical RAM_BASE + 1 MiB is 1 MiB into the RAM");
    }

    @Test
    void refusesSegmentsBelowOrInTheReservedStartOfRamAtANonZeroBase() throws ElfException {
        ElfImage below = ElfImage.parse("guest.elf", new ElfBuilder().load(MIB, new byte[] {1}, 1).build());
        assertOneLine(assertThrows(ElfException.class, () -> below.checkFits(RAM_BASE, RAM, RESERVED)), "outside RAM", "0x40000000..");
        ElfImage reserved = ElfImage.parse("guest.elf", new ElfBuilder().load(RAM_BASE + 0x8000, new byte[] {1}, 1).build());
        assertOneLine(assertThrows(ElfException.class, () -> reserved.checkFits(RAM_BASE, RAM, RESERVED)), "first 64 KiB of RAM", "reserves");
        ElfImage above = ElfImage.parse("guest.elf", new ElfBuilder().load(RAM_BASE + RAM - 2, new byte[] {1, 2, 3, 4}, 4).build());
        assertOneLine(assertThrows(ElfException.class, () -> above.checkFits(RAM_BASE, RAM, RESERVED)), "outside RAM");
    }

    @Test
    void physicalMemoryContainsOnlyItsBaseToItsEnd() {
        PhysicalMemory memory = TestMemory.flat(RAM_BASE, 0x1000);
        assertFalse(memory.contains(RAM_BASE - 1, 1));
        assertFalse(memory.contains(0, 1));
        assertTrue(memory.contains(RAM_BASE, 1));
        assertTrue(memory.contains(RAM_BASE, 0x1000));
        assertTrue(memory.contains(RAM_BASE + 0xFFF, 1));
        assertFalse(memory.contains(RAM_BASE + 0xFFF, 2));
        assertFalse(memory.contains(RAM_BASE + 0x1000, 0x1000));
        assertFalse(memory.contains(RAM_BASE, -1));
    }
}

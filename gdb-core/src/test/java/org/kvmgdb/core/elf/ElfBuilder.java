package org.kvmgdb.core.elf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Writes small ELF64 files byte by byte, so each refusal can be produced on purpose. */
final class ElfBuilder {
    record Load(long paddr, long vaddr, byte[] content, long memsz) {
    }

    int elfClass = 2;
    int data = 1;
    int type = 2;
    int machine = 62;
    long entry = 0x100000;
    final List<Load> loads = new ArrayList<>();

    ElfBuilder load(long paddr, byte[] content, long memsz) {
        loads.add(new Load(paddr, paddr, content, memsz));
        return this;
    }

    byte[] build() {
        int phoff = 64;
        int phnum = loads.size() + 1; // plus a PT_NOTE, which the loader must skip
        int contentAt = phoff + 56 * phnum;
        int size = contentAt + loads.stream().mapToInt(l -> l.content().length).sum();
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', (byte) elfClass, (byte) data, 1});
        b.putShort(16, (short) type).putShort(18, (short) machine).putInt(20, 1).putLong(24, entry).putLong(32, phoff)
                .putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) phnum);
        int at = phoff;
        b.putInt(at, 4); // PT_NOTE, empty
        at += 56;
        int offset = contentAt;
        for (Load l : loads) {
            b.putInt(at, 1).putInt(at + 4, 5).putLong(at + 8, offset).putLong(at + 16, l.vaddr()).putLong(at + 24, l.paddr())
                    .putLong(at + 32, l.content().length).putLong(at + 40, l.memsz()).putLong(at + 48, 0x1000);
            b.put(offset, l.content());
            offset += l.content().length;
            at += 56;
        }
        return b.array();
    }
}

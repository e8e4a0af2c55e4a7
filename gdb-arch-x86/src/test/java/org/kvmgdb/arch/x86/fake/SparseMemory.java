package org.kvmgdb.arch.x86.fake;

import java.util.HashMap;
import java.util.Map;
import org.kvmgdb.api.hypervisor.PhysicalMemory;

/** Guest-physical RAM of any size, backed by 4 KiB pages allocated on first write; unwritten pages read as zeros. */
public final class SparseMemory implements PhysicalMemory {
    private static final int PAGE = 4096;
    private final long size;
    private final Map<Long, byte[]> pages = new HashMap<>();

    public SparseMemory(long size) {
        this.size = size;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long address, byte[] destination, int offset, int length) {
        check(address, length);
        for (int i = 0; i < length; i++) {
            byte[] page = pages.get((address + i) / PAGE);
            destination[offset + i] = page == null ? 0 : page[(int) ((address + i) % PAGE)];
        }
    }

    @Override
    public void write(long address, byte[] source, int offset, int length) {
        check(address, length);
        for (int i = 0; i < length; i++) {
            pages.computeIfAbsent((address + i) / PAGE, k -> new byte[PAGE])[(int) ((address + i) % PAGE)] = source[offset + i];
        }
    }

    /** Pages that have been written, for tests that check what was (not) touched. */
    public boolean touched(long pageAddress) {
        return pages.containsKey(pageAddress / PAGE);
    }

    public byte[] readBytes(long address, int length) {
        byte[] b = new byte[length];
        read(address, b, 0, length);
        return b;
    }

    public void writeInt(long address, int value) {
        write(address, new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)}, 0, 4);
    }

    private void check(long address, int length) {
        if (!contains(address, length)) {
            throw new IndexOutOfBoundsException(String.format("0x%x+%d outside RAM of 0x%x bytes", address, length, size));
        }
    }
}

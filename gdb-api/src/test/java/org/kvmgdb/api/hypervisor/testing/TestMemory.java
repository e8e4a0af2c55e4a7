package org.kvmgdb.api.hypervisor.testing;

import java.util.HashMap;
import java.util.Map;
import org.kvmgdb.api.hypervisor.PhysicalMemory;

/**
 * In-memory guest-physical RAM for tests, shared through gdb-api's test-jar. Either sparse (any size,
 * 4 KiB pages allocated on first write, unwritten bytes read as zero: for page-table builders that
 * scatter tables over a large address space) or flat (one byte array the test can look into directly).
 * RAM spans {@code base() .. base()+size()-1}; anything outside is refused with
 * {@link IndexOutOfBoundsException}, as {@link PhysicalMemory} requires.
 */
public final class TestMemory implements PhysicalMemory {
    private static final int PAGE = 4096;
    private final long base;
    private final long size;
    /** Flat storage: guest-physical {@code base + i} is {@code flat[i]}; null when sparse. */
    private final byte[] flat;
    /** Sparse storage, keyed by page number counted from {@code base}; null when flat. */
    private final Map<Long, byte[]> pages;

    private TestMemory(long base, long size, byte[] flat) {
        if (size < 0) {
            throw new IllegalArgumentException("negative RAM size " + size);
        }
        this.base = base;
        this.size = size;
        this.flat = flat;
        this.pages = flat == null ? new HashMap<>() : null;
    }

    /** Sparse RAM of {@code size} bytes at guest-physical 0. */
    public static TestMemory sparse(long size) {
        return sparse(0, size);
    }

    /** Sparse RAM of {@code size} bytes at guest-physical {@code base}. */
    public static TestMemory sparse(long base, long size) {
        return new TestMemory(base, size, null);
    }

    /** Flat RAM of {@code size} bytes at guest-physical 0. */
    public static TestMemory flat(int size) {
        return flat(0, size);
    }

    /** Flat RAM of {@code size} bytes at guest-physical {@code base}. */
    public static TestMemory flat(long base, int size) {
        return new TestMemory(base, size, new byte[size]);
    }

    @Override
    public long base() {
        return base;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long address, byte[] destination, int offset, int length) {
        check(address, length);
        if (flat != null) {
            System.arraycopy(flat, (int) (address - base), destination, offset, length);
            return;
        }
        for (int i = 0; i < length; i++) {
            long at = address - base + i;
            byte[] page = pages.get(at / PAGE);
            destination[offset + i] = page == null ? 0 : page[(int) (at % PAGE)];
        }
    }

    @Override
    public void write(long address, byte[] source, int offset, int length) {
        check(address, length);
        if (flat != null) {
            System.arraycopy(source, offset, flat, (int) (address - base), length);
            return;
        }
        for (int i = 0; i < length; i++) {
            long at = address - base + i;
            pages.computeIfAbsent(at / PAGE, k -> new byte[PAGE])[(int) (at % PAGE)] = source[offset + i];
        }
    }

    /** The backing array of flat RAM (index 0 is guest-physical {@code base()}), for tests that look inside. */
    public byte[] bytes() {
        if (flat == null) {
            throw new IllegalStateException("sparse RAM has no backing array");
        }
        return flat;
    }

    /** Whether the sparse page holding {@code pageAddress} has been written, for tests that check what was (not) touched. */
    public boolean touched(long pageAddress) {
        if (pages == null) {
            throw new IllegalStateException("flat RAM does not track touched pages");
        }
        return pages.containsKey((pageAddress - base) / PAGE);
    }

    public byte[] readBytes(long address, int length) {
        byte[] b = new byte[length];
        read(address, b, 0, length);
        return b;
    }

    /** Little-endian, like the 32-bit page-table entries of legacy x86 paging. */
    public void writeInt(long address, int value) {
        write(address, new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)}, 0, 4);
    }

    private void check(long address, int length) {
        if (!contains(address, length)) {
            throw new IndexOutOfBoundsException(
                    String.format("0x%x+%d outside RAM of 0x%x bytes at 0x%x", address, length, size, base));
        }
    }
}

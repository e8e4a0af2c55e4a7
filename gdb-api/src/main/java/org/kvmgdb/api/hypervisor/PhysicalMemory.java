package org.kvmgdb.api.hypervisor;

/**
 * Guest-physical memory (RAM only). Addresses outside {@code [0, size())} are refused with
 * {@link IndexOutOfBoundsException}, never wrapped.
 */
public interface PhysicalMemory {

    /** RAM size in bytes; RAM spans guest-physical {@code 0 .. size()-1}. */
    long size();

    void read(long address, byte[] destination, int offset, int length);

    void write(long address, byte[] source, int offset, int length);

    default long readLong(long address) {
        byte[] b = new byte[8];
        read(address, b, 0, 8);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }

    default void writeLong(long address, long value) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        write(address, b, 0, 8);
    }

    default boolean contains(long address, long length) {
        return address >= 0 && length >= 0 && address <= size() - length;
    }
}

package org.kvmgdb.api.hypervisor;

/**
 * Guest-physical memory (RAM only). Addresses are guest-physical; those outside
 * {@code [base(), base() + size())} are refused with {@link IndexOutOfBoundsException}, never wrapped.
 */
public interface PhysicalMemory {

    /** RAM size in bytes; RAM spans guest-physical {@code base() .. base()+size()-1}. */
    long size();

    /** Guest-physical address of the first RAM byte: 0 on a PC, the platform's RAM base elsewhere. */
    default long base() {
        return 0;
    }

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
        return address >= base() && length >= 0 && length <= size() && address - base() <= size() - length;
    }
}

package org.kvmgdb.core.protocol;

import java.util.Arrays;

/** A growable byte array, so this package needs nothing from {@code java.io}. */
final class ByteBuilder {
    private byte[] bytes;
    private int length;

    ByteBuilder(int capacity) {
        bytes = new byte[Math.max(16, capacity)];
    }

    void add(int b) {
        if (length == bytes.length) {
            bytes = Arrays.copyOf(bytes, bytes.length * 2);
        }
        bytes[length++] = (byte) b;
    }

    byte[] toArray() {
        return Arrays.copyOf(bytes, length);
    }
}

package org.kvmgdb.arch.x86.kvm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * A fixed-size kernel struct held in a direct little-endian buffer, the form
 * {@link VcpuHandle#ioctl} passes to the kernel. Subclasses name the fields by their offsets.
 */
public abstract class KvmStruct {
    protected final ByteBuffer buffer;

    protected KvmStruct(int size) {
        this.buffer = VcpuHandle.buffer(size);
    }

    /** The struct's storage, little-endian, the whole capacity is the struct. */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** A copy of the struct's bytes, as the kernel sees them. */
    public byte[] toBytes() {
        byte[] b = new byte[buffer.capacity()];
        buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear().get(b);
        return b;
    }

    /** Overwrites the struct with {@code bytes} (exactly its size). */
    public void fromBytes(byte[] bytes) {
        if (bytes.length != buffer.capacity()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " is " + buffer.capacity() + " bytes, got " + bytes.length);
        }
        buffer.duplicate().clear().put(bytes);
    }

    /** Whether this struct holds the same bytes as {@code other}. */
    public boolean sameBytes(KvmStruct other) {
        return Arrays.equals(toBytes(), other.toBytes());
    }

    protected static void checkIndex(int index, int count, String what) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException(what + " " + index + " not in 0.." + (count - 1));
        }
    }
}

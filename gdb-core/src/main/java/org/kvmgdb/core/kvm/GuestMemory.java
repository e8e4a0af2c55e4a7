package org.kvmgdb.core.kvm;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.kvmgdb.api.hypervisor.PhysicalMemory;

/**
 * Guest RAM: one anonymous {@code MAP_SHARED | MAP_NORESERVE} host mapping registered as KVM
 * memory slot 0 at guest-physical 0. Reads and writes go straight to the mapping, so they see and
 * make the same bytes the guest does, also while it runs.
 */
public final class GuestMemory implements PhysicalMemory {
    private final long hostAddress;
    private final long size;
    private final Pointer base;
    private volatile boolean unmapped;

    private GuestMemory(long hostAddress, long size) {
        this.hostAddress = hostAddress;
        this.size = size;
        this.base = new Pointer(hostAddress);
    }

    /** Maps {@code size} bytes of zeroed, lazily allocated host memory. */
    static GuestMemory allocate(long size) {
        long address = Sys.mmap(size, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_SHARED | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0, "guest RAM, " + size + " bytes");
        return new GuestMemory(address, size);
    }

    /** Where the mapping starts in this process, for {@code kvm_userspace_memory_region.userspace_addr}. */
    long hostAddress() {
        return hostAddress;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long address, byte[] destination, int offset, int length) {
        check(address, length);
        Objects.checkFromIndexSize(offset, length, destination.length);
        base.read(address, destination, offset, length);
    }

    @Override
    public void write(long address, byte[] source, int offset, int length) {
        check(address, length);
        Objects.checkFromIndexSize(offset, length, source.length);
        base.write(address, source, offset, length);
    }

    @Override
    public long readLong(long address) {
        check(address, 8);
        // The guest is little-endian (x86-64, arm64 as KVM runs it), and so is every host KVM runs on here.
        return base.getLong(address);
    }

    @Override
    public void writeLong(long address, long value) {
        check(address, 8);
        base.setLong(address, value);
    }

    /**
     * A little-endian view of {@code [address, address + length)} straight into the mapping, for
     * compares on every single step without a native call per read. Valid until the VM is closed.
     */
    ByteBuffer view(long address, int length) {
        check(address, length);
        return base.getByteBuffer(address, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void check(long address, long length) {
        if (unmapped) {
            throw new IllegalStateException("guest memory was released");
        }
        if (!contains(address, length)) {
            throw new IndexOutOfBoundsException(String.format(
                    "guest-physical 0x%x + %d is outside RAM (0 .. 0x%x)", address, length, size - 1));
        }
    }

    void unmap() {
        unmapped = true;
        Sys.munmap(hostAddress, size);
    }
}

package org.kvmgdb.core.kvm;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.kvmgdb.api.hypervisor.PhysicalMemory;

/**
 * Guest RAM: one anonymous {@code MAP_SHARED | MAP_NORESERVE} host mapping registered as KVM
 * memory slot 0 at the platform's RAM base (guest-physical 0 on a PC). Addresses are guest-physical;
 * the mapping's offset is {@code address - base()}. Reads and writes go straight to the mapping, so
 * they see and make the same bytes the guest does, also while it runs.
 */
public final class GuestMemory implements PhysicalMemory {
    private final KvmKernel kernel;
    private final long hostAddress;
    private final long guestBase;
    private final long size;
    private final Pointer host;
    private volatile boolean unmapped;

    private GuestMemory(KvmKernel kernel, long hostAddress, long guestBase, long size) {
        this.kernel = kernel;
        this.hostAddress = hostAddress;
        this.guestBase = guestBase;
        this.size = size;
        this.host = new Pointer(hostAddress);
    }

    /** Maps {@code size} bytes of zeroed, lazily allocated host memory for RAM at guest-physical 0. */
    static GuestMemory allocate(long size) {
        return allocate(0, size);
    }

    /** Maps {@code size} bytes of zeroed, lazily allocated host memory for RAM at guest-physical {@code guestBase}. */
    static GuestMemory allocate(long guestBase, long size) {
        return allocate(KvmKernel.host(), guestBase, size);
    }

    /** The same, mapped through {@code kernel}, which the memory slot of this RAM is registered with. */
    static GuestMemory allocate(KvmKernel kernel, long guestBase, long size) {
        long address = Sys.mmap(kernel, size, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_SHARED | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0, "guest RAM, " + size + " bytes");
        return new GuestMemory(kernel, address, guestBase, size);
    }

    @Override
    public long base() {
        return guestBase;
    }

    /** Where guest-physical {@code address} is in this process (the caller has checked it is RAM). */
    long hostAddress(long address) {
        return hostAddress + (address - guestBase);
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
        host.read(address - guestBase, destination, offset, length);
    }

    @Override
    public void write(long address, byte[] source, int offset, int length) {
        check(address, length);
        Objects.checkFromIndexSize(offset, length, source.length);
        host.write(address - guestBase, source, offset, length);
    }

    @Override
    public long readLong(long address) {
        check(address, 8);
        // The guest is little-endian (x86-64, arm64 as KVM runs it), and so is every host KVM runs on here.
        return host.getLong(address - guestBase);
    }

    @Override
    public void writeLong(long address, long value) {
        check(address, 8);
        host.setLong(address - guestBase, value);
    }

    /**
     * A little-endian view of {@code [address, address + length)} straight into the mapping, for
     * compares on every single step without a native call per read. Valid until the VM is closed.
     */
    ByteBuffer view(long address, int length) {
        check(address, length);
        return host.getByteBuffer(address - guestBase, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void check(long address, long length) {
        if (unmapped) {
            throw new IllegalStateException("guest memory was released");
        }
        if (!contains(address, length)) {
            throw new IndexOutOfBoundsException(String.format(
                    "guest-physical 0x%x + %d is outside RAM (0x%x .. 0x%x)", address, length, guestBase, guestBase + size - 1));
        }
    }

    void unmap() {
        unmapped = true;
        Sys.munmap(kernel, hostAddress, size);
    }
}

package org.kvmgdb.api.hypervisor;

import java.nio.ByteBuffer;

/** The VM: VM-level and system-level ioctls, and its guest-physical memory. */
public interface VmHandle {

    /** {@code KVM_CHECK_EXTENSION} on the VM fd: 0 when the capability is absent. */
    int checkExtension(int capability);

    /** {@code ioctl(vm_fd, request, arg)}; see {@link VcpuHandle#ioctl}. */
    int ioctl(long request, ByteBuffer arg);

    /** {@code ioctl(/dev/kvm, request, arg)}, e.g. {@code KVM_GET_SUPPORTED_CPUID}. */
    int systemIoctl(long request, ByteBuffer arg);

    PhysicalMemory memory();

    /**
     * Makes the guest's instruction fetch see bytes the host just wrote at guest-physical
     * {@code [guestPhysical, guestPhysical + length)}: on a host whose instruction cache is not
     * coherent with data stores (arm64) the implementation cleans the data cache and invalidates the
     * instruction cache over its mapping of those bytes (what libgcc's {@code __clear_cache} does).
     * The default does nothing, which is right for x86 hosts.
     */
    default void syncInstructionCache(long guestPhysical, int length) {
    }
}

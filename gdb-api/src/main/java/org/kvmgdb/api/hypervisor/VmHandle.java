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
}

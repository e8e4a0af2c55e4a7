package org.kvmgdb.api.hypervisor;

import java.nio.ByteBuffer;

/**
 * One vCPU as the hypervisor sees it. Architecture code encodes the kernel's structs into
 * direct little-endian buffers itself and hands them to {@link #ioctl}, so its tests can assert
 * the exact bytes an ioctl would receive, and replay the bytes a kernel would return.
 *
 * <p>Calls are made on the vCPU's own thread or while the vCPU is stopped; the implementation
 * does not synchronise.
 */
public interface VcpuHandle {

    /** 0-based vCPU index (KVM's vcpu id). */
    int index();

    /** The VM this vCPU belongs to. */
    VmHandle vm();

    /**
     * {@code ioctl(vcpu_fd, request, arg)} with a pointer to {@code arg}'s storage.
     *
     * @param arg a direct buffer; its position and limit are ignored, the whole capacity is passed
     * @return the ioctl's non-negative result
     * @throws HypervisorException when the ioctl fails; carries errno
     */
    int ioctl(long request, ByteBuffer arg);

    /** {@code KVM_GET_ONE_REG}: reads register {@code id} into {@code value} (its size is in the id). */
    void getOneReg(long id, ByteBuffer value);

    /** {@code KVM_SET_ONE_REG}. */
    void setOneReg(long id, ByteBuffer value);

    /** A view of the vCPU's mmap-ed {@code struct kvm_run}, little-endian, position 0. */
    ByteBuffer kvmRun();

    /** A new direct little-endian buffer of {@code size} zero bytes, suitable for {@link #ioctl}. */
    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocateDirect(size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }
}

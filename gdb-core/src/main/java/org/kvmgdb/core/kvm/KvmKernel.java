package org.kvmgdb.core.kvm;

/**
 * The Linux system calls through which the VMM drives KVM: {@code open} of /dev/kvm, {@code ioctl}
 * on the system, VM and vCPU fds ({@code KVM_RUN} included), {@code mmap} of a vCPU fd's
 * {@code struct kvm_run} and of anonymous memory for guest RAM, {@code munmap}, {@code close}.
 * Every struct crosses as the address of the caller's memory, exactly as the kernel receives it.
 *
 * <p>Results follow the kernel's own convention: a non-negative value, or {@code -errno}; the
 * VMM turns a negative one into a {@link KvmException} in one place. {@link #host()} is the
 * production implementation (libc through JNA direct mapping, see {@code LibC}); a test can give
 * {@link Kvm#open(KvmKernel)} a simulated kernel instead, and everything above it (VM, vCPU
 * threads, {@link KvmTarget}, the architecture plugin) runs unchanged. Signals (the kick that ends a
 * {@code KVM_RUN}) are not part of this interface: they are the host's, for real, in either case.
 */
public interface KvmKernel {
    /** {@code O_RDWR | O_CLOEXEC}, the flags {@code /dev/kvm} is opened with (asm-generic/fcntl.h). */
    int OPEN_FLAGS = LibC.O_RDWR | LibC.O_CLOEXEC;

    /** open(2): a file descriptor, or -errno. */
    int open(String path, int flags);

    /** close(2): 0, or -errno. */
    int close(int fd);

    /**
     * ioctl(2) with its third argument as an integer or as the address of a struct.
     *
     * @return the ioctl's non-negative result, or -errno ({@code -EINTR} when a signal ended a {@code KVM_RUN})
     */
    int ioctl(int fd, long request, long arg);

    /**
     * mmap(2) of {@code length} bytes at an address the kernel chooses; {@code fd} -1 for anonymous memory.
     *
     * @return the mapping's address, or -errno
     */
    long mmap(long length, int prot, int flags, int fd, long offset);

    /** munmap(2): 0, or -errno. */
    int munmap(long address, long length);

    /** This machine's kernel, through libc. */
    static KvmKernel host() {
        return HostKernel.INSTANCE;
    }
}

package org.kvmgdb.core.kvm;

import com.sun.jna.LastErrorException;

/**
 * {@link KvmKernel} on the real kernel: each call is one {@link LibC} native method, and the errno
 * JNA reads after a failed call becomes the negative result. Nothing is allocated on success, so
 * the {@code KVM_RUN} of a single step costs what it did when the VMM called libc directly.
 */
final class HostKernel implements KvmKernel {
    static final HostKernel INSTANCE = new HostKernel();

    private HostKernel() {
    }

    @Override
    public int open(String path, int flags) {
        try {
            return LibC.open(path, flags);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int close(int fd) {
        try {
            return LibC.close(fd);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int ioctl(int fd, long request, long arg) {
        try {
            return LibC.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public long mmap(long length, int prot, int flags, int fd, long offset) {
        try {
            long address = LibC.mmap(0, length, prot, flags, fd, offset);
            return address == LibC.MAP_FAILED ? -com.sun.jna.Native.getLastError() : address;
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int munmap(long address, long length) {
        try {
            return LibC.munmap(address, length);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public String toString() {
        return "the host kernel";
    }
}

package org.kvmgdb.core.kvm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.nio.ByteBuffer;

/**
 * The libc calls of {@link LibC}, with failures turned into {@link KvmException} in one place
 * ({@link #failure}). Buffers passed as pointers must be direct; their whole capacity belongs to
 * the call.
 */
final class Sys {
    /** SYS_gettid and SYS_tgkill: asm/unistd_64.h on x86-64, asm-generic/unistd.h on arm64. */
    private static final long SYS_GETTID = Platform.isARM() ? 178 : 186;
    private static final long SYS_TGKILL = Platform.isARM() ? 131 : 234;

    private Sys() {
    }

    /** The one place where an errno becomes an exception. */
    static KvmException failure(String call, int errno) {
        return new KvmException(call, errno, call + " failed: " + errnoName(errno) + " (errno " + errno + ")");
    }

    static int open(KvmKernel kernel, String path) {
        int fd = kernel.open(path, KvmKernel.OPEN_FLAGS);
        if (fd < 0) {
            throw failure("open(" + path + ")", -fd);
        }
        return fd;
    }

    static void close(KvmKernel kernel, int fd) {
        int result = kernel.close(fd);
        if (result < 0) {
            throw failure("close(" + fd + ")", -result);
        }
    }

    /** ioctl with an integer argument (or none). */
    static int ioctl(KvmKernel kernel, int fd, long request, long arg) {
        int result = kernel.ioctl(fd, request, arg);
        if (result < 0) {
            throw failure("ioctl(" + KvmIoctl.name(request) + ")", -result);
        }
        return result;
    }

    /** ioctl with a pointer to {@code arg}'s storage. */
    static int ioctl(KvmKernel kernel, int fd, long request, ByteBuffer arg) {
        return ioctl(kernel, fd, request, address(arg));
    }

    /**
     * ioctl that may be interrupted by a signal, as {@code KVM_RUN} is by a kick.
     *
     * @return the ioctl's result, or {@code -EINTR} when a signal interrupted it
     */
    static int ioctlInterruptible(KvmKernel kernel, int fd, long request, long arg) {
        int result = kernel.ioctl(fd, request, arg);
        if (result < 0 && result != -LibC.EINTR) {
            throw failure("ioctl(" + KvmIoctl.name(request) + ")", -result);
        }
        return result;
    }

    static long mmap(KvmKernel kernel, long length, int prot, int flags, int fd, long offset, String what) {
        long address = kernel.mmap(length, prot, flags, fd, offset);
        // The kernel's convention: -4095..-1 are errors, anything else an address.
        if (address < 0 && address >= -4095) {
            throw failure("mmap(" + what + ")", (int) -address);
        }
        return address;
    }

    static void munmap(KvmKernel kernel, long address, long length) {
        int result = kernel.munmap(address, length);
        if (result < 0) {
            throw failure("munmap", -result);
        }
    }

    /** The calling thread's kernel thread id, for {@link #tgkill}. */
    static int gettid() {
        try {
            return (int) LibC.syscall(SYS_GETTID, 0, 0, 0);
        } catch (LastErrorException e) {
            throw failure("gettid", e.getErrorCode());
        }
    }

    /** Sends {@code signal} to one thread of this process. */
    static void tgkill(int tid, int signal) {
        try {
            LibC.syscall(SYS_TGKILL, processId(), tid, signal);
        } catch (LastErrorException e) {
            throw failure("tgkill(" + tid + ", " + signal + ")", e.getErrorCode());
        }
    }

    private static long processId() {
        return ProcessHandle.current().pid();
    }

    /** SIGRTMIN as glibc defines it in this process. */
    static int sigrtmin() {
        return LibC.__libc_current_sigrtmin();
    }

    /** A new glibc {@code sigset_t} holding just {@code signal}. */
    static ByteBuffer sigset(int signal) {
        ByteBuffer set = ByteBuffer.allocateDirect(LibC.SIGSET_T_SIZE).order(java.nio.ByteOrder.nativeOrder());
        addSignal(set, signal);
        return set;
    }

    /** sigaddset: signal n is bit n-1, in unsigned longs. */
    static void addSignal(ByteBuffer set, int signal) {
        int bit = signal - 1;
        int index = (bit / 64) * 8;
        set.putLong(index, set.getLong(index) | (1L << (bit % 64)));
    }

    static void removeSignal(ByteBuffer set, int signal) {
        int bit = signal - 1;
        int index = (bit / 64) * 8;
        set.putLong(index, set.getLong(index) & ~(1L << (bit % 64)));
    }

    /**
     * pthread_sigmask(how, set, oldSet) for the calling thread.
     *
     * @param oldSet receives the previous mask; may be null
     */
    static void pthreadSigmask(int how, ByteBuffer set, ByteBuffer oldSet) {
        int error = LibC.pthread_sigmask(how, set == null ? 0 : address(set), oldSet == null ? 0 : address(oldSet));
        if (error != 0) {
            throw failure("pthread_sigmask", error);
        }
    }

    /**
     * Takes a pending signal of {@code set} off the calling thread without waiting.
     *
     * @param zeroTimeout a {@code struct timespec} of zeros
     * @return the signal taken, or 0 when none was pending
     */
    static int sigtimedwaitNow(ByteBuffer set, ByteBuffer zeroTimeout) {
        try {
            return LibC.sigtimedwait(address(set), 0, address(zeroTimeout));
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.EAGAIN || e.getErrorCode() == LibC.EINTR) {
                return 0;
            }
            throw failure("sigtimedwait", e.getErrorCode());
        }
    }

    static long address(ByteBuffer buffer) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("a buffer passed to the kernel must be direct");
        }
        return com.sun.jna.Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
    }

    static String errnoName(int errno) {
        switch (errno) {
            case 1: return "EPERM";
            case 2: return "ENOENT";
            case 4: return "EINTR";
            case 5: return "EIO";
            case 6: return "ENXIO";
            case 7: return "E2BIG";
            case 9: return "EBADF";
            case 11: return "EAGAIN";
            case 12: return "ENOMEM";
            case 13: return "EACCES";
            case 14: return "EFAULT";
            case 16: return "EBUSY";
            case 17: return "EEXIST";
            case 19: return "ENODEV";
            case 22: return "EINVAL";
            case 24: return "EMFILE";
            case 25: return "ENOTTY";
            case 28: return "ENOSPC";
            case 95: return "EOPNOTSUPP";
            default: return "errno " + errno;
        }
    }
}

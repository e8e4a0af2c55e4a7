package org.kvmgdb.core.kvm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.platform.linux.ErrNo;
import com.sun.jna.platform.linux.Fcntl;
import com.sun.jna.platform.linux.Mman;

/**
 * The libc calls the VMM needs, bound with JNA direct mapping ({@link Native#register}): one
 * native method per C function, no proxy and no argument conversion, which is what keeps
 * {@code KVM_RUN} from Java as fast as from C (KVM-HERE.md). Pointers travel as {@code long}
 * addresses of direct buffers or mappings.
 *
 * <p>Raw and package-private: callers go through {@link Sys}, which turns a failure into a typed
 * exception in one place. A method declared to throw {@link LastErrorException} makes JNA read
 * {@code errno} right after the call.
 *
 * <p>The flag and errno values are jna-platform's ({@code com.sun.jna.platform.linux}), named here
 * once with the header they come from; they are compile-time constants, so jna-platform's classes
 * are never loaded at run time.
 */
final class LibC {
    static {
        Native.register(LibC.class, Platform.C_LIBRARY_NAME);
    }

    private LibC() {
    }

    /** O_RDWR = 02, asm-generic/fcntl.h. */
    static final int O_RDWR = Fcntl.O_RDWR;
    /** O_CLOEXEC = 02000000, asm-generic/fcntl.h: no descriptor leaks into a child process. */
    static final int O_CLOEXEC = Fcntl.O_CLOEXEC;

    /** PROT_READ = 0x1, asm-generic/mman-common.h. */
    static final int PROT_READ = Mman.PROT_READ;
    /** PROT_WRITE = 0x2, asm-generic/mman-common.h. */
    static final int PROT_WRITE = Mman.PROT_WRITE;
    /** MAP_SHARED = 0x01, linux/mman.h: KVM and this process see the same pages. */
    static final int MAP_SHARED = Mman.MAP_SHARED;
    /** MAP_ANONYMOUS = 0x20, asm-generic/mman-common.h. */
    static final int MAP_ANONYMOUS = Mman.MAP_ANONYMOUS;
    /** MAP_NORESERVE = 0x4000, asm-generic/mman.h: guest RAM costs nothing until the guest touches it. */
    static final int MAP_NORESERVE = Mman.MAP_NORESERVE;
    /** MAP_FAILED = (void *) -1, sys/mman.h. */
    static final long MAP_FAILED = -1L;

    /** SIG_BLOCK = 0, asm-generic/signal-defs.h. */
    static final int SIG_BLOCK = 0;
    /** SIG_UNBLOCK = 1, asm-generic/signal-defs.h. */
    static final int SIG_UNBLOCK = 1;
    /** SIG_SETMASK = 2, asm-generic/signal-defs.h. */
    static final int SIG_SETMASK = 2;

    /** sizeof(sigset_t) in glibc = 128 (bits/types/__sigset_t.h: 1024 bits). */
    static final int SIGSET_T_SIZE = 128;
    /** The kernel's sigset_t on x86-64 and arm64 = 8 bytes (_NSIG = 64, asm-generic/signal.h): what KVM_SET_SIGNAL_MASK takes. */
    static final int KERNEL_SIGSET_SIZE = 8;
    /** sizeof(struct timespec) = 16 on 64-bit Linux (linux/time_types.h: tv_sec, tv_nsec). */
    static final int TIMESPEC_SIZE = 16;

    /** EPERM = 1, asm-generic/errno-base.h. */
    static final int EPERM = ErrNo.EPERM;
    /** ENOENT = 2, asm-generic/errno-base.h. */
    static final int ENOENT = ErrNo.ENOENT;
    /** EINTR = 4, asm-generic/errno-base.h. */
    static final int EINTR = ErrNo.EINTR;
    /** ENXIO = 6, asm-generic/errno-base.h. */
    static final int ENXIO = ErrNo.ENXIO;
    /** EAGAIN = 11, asm-generic/errno-base.h. */
    static final int EAGAIN = ErrNo.EAGAIN;
    /** EACCES = 13, asm-generic/errno-base.h. */
    static final int EACCES = ErrNo.EACCES;
    /** ENODEV = 19, asm-generic/errno-base.h. */
    static final int ENODEV = ErrNo.ENODEV;

    static native int open(String path, int flags) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    /** ioctl(2) with its third argument as an integer or a pointer ({@code long} either way). */
    static native int ioctl(int fd, long request, long arg) throws LastErrorException;

    static native long mmap(long address, long length, int prot, int flags, int fd, long offset) throws LastErrorException;

    static native int munmap(long address, long length) throws LastErrorException;

    /** Returns an error number instead of setting errno (POSIX threads convention). */
    static native int pthread_sigmask(int how, long set, long oldSet);

    static native int sigtimedwait(long set, long info, long timeout) throws LastErrorException;

    /** glibc's value of SIGRTMIN, which it chooses at run time (it keeps the first ones for itself). */
    static native int __libc_current_sigrtmin();

    /**
     * syscall(2). Declared with three fixed arguments: on x86-64 and arm64 the variadic wrapper
     * reads its arguments from the same registers, and unused ones are ignored by the kernel.
     */
    static native long syscall(long number, long a0, long a1, long a2) throws LastErrorException;
}

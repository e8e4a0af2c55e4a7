package org.kvmgdb.core.testing;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The few libc signal calls a simulated {@code KVM_RUN} needs to wait for a kick the way the
 * kernel's does: the kick is a real signal sent to the real vCPU thread (gdb-core's VcpuRunner),
 * so waiting for it takes the real calls. JNA direct mapping, as gdb-core's own libc binding.
 */
final class HostSignals {
    static {
        Native.register(HostSignals.class, Platform.C_LIBRARY_NAME);
    }

    /** SIG_BLOCK = 0, asm-generic/signal-defs.h; with a null set it only reads the mask. */
    static final int SIG_BLOCK = 0;
    /** sizeof(sigset_t) in glibc = 128 bytes (bits/types/__sigset_t.h). */
    static final int SIGSET_T_SIZE = 128;
    /** EINTR = 4, asm-generic/errno-base.h. */
    static final int EINTR = 4;

    private HostSignals() {
    }

    static native int pthread_sigmask(int how, long set, long oldSet);

    static native int sigtimedwait(long set, long info, long timeout) throws LastErrorException;

    static native int raise(int signal) throws LastErrorException;

    static native int sigpending(long set) throws LastErrorException;

    /** The calling thread's pending signals 1..64 (its own and the process's) as a bit mask. */
    static long pendingSignals() {
        ByteBuffer set = ByteBuffer.allocateDirect(SIGSET_T_SIZE).order(ByteOrder.nativeOrder());
        sigpending(address(set));
        return set.getLong(0);
    }

    /** The calling thread's blocked signals 1..64 as a bit mask (signal n is bit n-1). */
    static long blockedSignals() {
        ByteBuffer mask = ByteBuffer.allocateDirect(SIGSET_T_SIZE).order(ByteOrder.nativeOrder());
        int error = pthread_sigmask(SIG_BLOCK, 0, address(mask));
        if (error != 0) {
            throw new IllegalStateException("pthread_sigmask failed: errno " + error);
        }
        return mask.getLong(0);
    }

    /**
     * Waits, without a timeout, until one of {@code signals} (a mask as {@link #blockedSignals}; all
     * blocked in this thread) is pending, takes it, and raises it again so that it stays pending for
     * whoever waits for it next: the state the kernel leaves when a signal ends {@code KVM_RUN}.
     *
     * @return the signal
     */
    static int awaitPending(long signals) {
        ByteBuffer set = ByteBuffer.allocateDirect(SIGSET_T_SIZE).order(ByteOrder.nativeOrder());
        set.putLong(0, signals);
        while (true) {
            try {
                int signal = sigtimedwait(address(set), 0, 0);
                raise(signal); // blocked in this thread: it stays pending
                return signal;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw new IllegalStateException("sigtimedwait failed: errno " + e.getErrorCode(), e);
                }
            }
        }
    }

    static long address(ByteBuffer direct) {
        return com.sun.jna.Pointer.nativeValue(Native.getDirectBufferPointer(direct));
    }
}

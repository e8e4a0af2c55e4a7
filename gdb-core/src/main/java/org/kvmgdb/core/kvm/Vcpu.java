package org.kvmgdb.core.kvm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.hypervisor.Ioctls;
import org.kvmgdb.api.hypervisor.KvmRunHeader;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;

/**
 * One KVM vCPU: its fd and its mmap-ed {@code struct kvm_run}. Not thread-safe; used by its own
 * thread while it runs and by the debugger while it is stopped (VcpuHandle's contract).
 */
public final class Vcpu implements VcpuHandle {
    private final Vm vm;
    private final KvmKernel kernel;
    private final int index;
    private final int fd;
    private final long runAddress;
    private final long runSize;
    private final ByteBuffer kvmRun;
    private final ByteBuffer oneReg = VcpuHandle.buffer(KvmIoctl.OneReg.SIZE);
    private final long oneRegAddress = Sys.address(oneReg);
    private final ExitCounters counters = new ExitCounters();
    private boolean closed;

    /**
     * The per-stop register cache: the requests of the pure-read ioctls ({@code _IOR}) the
     * architecture names stable while the vCPU is stopped ({@link RegisterAccess#cacheableReads()}),
     * their last answers, and which answers are still valid (bit n for request n). After a
     * breakpoint stop the stop classifier, the stop's pc, the expedited registers, the thread list
     * and the resume all want KVM_GET_REGS; one ioctl now serves them. Running the vCPU and any
     * other ioctl that is not a pure read (every KVM_SET_*) invalidate them, so a register write goes
     * straight to KVM and the next read asks KVM again.
     */
    private long[] cacheable = new long[0];
    private ByteBuffer[] answers = new ByteBuffer[0];
    private int[] answerResults = new int[0];
    private int validAnswers;

    private Vcpu(Vm vm, KvmKernel kernel, int index, int fd, long runAddress, long runSize) {
        this.vm = vm;
        this.kernel = kernel;
        this.index = index;
        this.fd = fd;
        this.runAddress = runAddress;
        this.runSize = runSize;
        this.kvmRun = new com.sun.jna.Pointer(runAddress).getByteBuffer(0, runSize).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** KVM_CREATE_VCPU, then maps the fd's {@code struct kvm_run} (KVM_GET_VCPU_MMAP_SIZE bytes). */
    static Vcpu create(Vm vm, KvmKernel kernel, int vmFd, int index, int mmapSize) {
        int fd = Sys.ioctl(kernel, vmFd, KvmIoctl.KVM_CREATE_VCPU, index);
        try {
            long run = Sys.mmap(kernel, mmapSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0, "kvm_run of vCPU " + index);
            return new Vcpu(vm, kernel, index, fd, run, mmapSize);
        } catch (RuntimeException e) {
            Sys.close(kernel, fd);
            throw e;
        }
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public VmHandle vm() {
        return vm;
    }

    int fd() {
        return fd;
    }

    @Override
    public int ioctl(long request, ByteBuffer arg) {
        int slot = cacheSlot(request);
        if (slot < 0) {
            if (!Ioctls.isReadOnly(request)) {
                forgetReads();
            }
            return Sys.ioctl(kernel, fd, request, arg);
        }
        ByteBuffer answer = answers[slot];
        int size = Math.min(answer.capacity(), arg.capacity());
        // The absolute bulk copies are bounded by the limit; the ioctl, like VcpuHandle's contract,
        // by the capacity alone. A view with the whole capacity only for a caller that set a limit.
        ByteBuffer whole = arg.limit() == arg.capacity() ? arg : arg.duplicate().clear();
        if ((validAnswers & (1 << slot)) != 0) {
            whole.put(0, answer, 0, size);
            return answerResults[slot];
        }
        int result = Sys.ioctl(kernel, fd, request, arg);
        answer.put(0, whole, 0, size);
        answerResults[slot] = result;
        validAnswers |= 1 << slot;
        return result;
    }

    /**
     * Serves repeats of these pure-read ioctls from their first answer until the vCPU runs or is
     * written to (at most 32; the first ones count). Called while the vCPU is stopped.
     */
    void cacheReads(long[] requests) {
        int n = 0;
        long[] kept = new long[Math.min(requests.length, Integer.SIZE)];
        for (long request : requests) {
            if (n < kept.length && Ioctls.isReadOnly(request)) {
                kept[n++] = request;
            }
        }
        cacheable = java.util.Arrays.copyOf(kept, n);
        answers = new ByteBuffer[n];
        answerResults = new int[n];
        for (int i = 0; i < n; i++) {
            answers[i] = VcpuHandle.buffer(Ioctls.size(cacheable[i]));
        }
        validAnswers = 0;
    }

    /** Drops every cached answer: the vCPU is about to run, or something changed its state. */
    void forgetReads() {
        validAnswers = 0;
    }

    private int cacheSlot(long request) {
        long[] c = cacheable;
        for (int i = 0; i < c.length; i++) {
            if (c[i] == request) {
                return i;
            }
        }
        return -1;
    }

    /** An ioctl whose argument is an integer, not a pointer. */
    int ioctl(long request, long arg) {
        if (!Ioctls.isReadOnly(request)) {
            forgetReads();
        }
        return Sys.ioctl(kernel, fd, request, arg);
    }

    @Override
    public void getOneReg(long id, ByteBuffer value) {
        oneReg.putLong(KvmIoctl.OneReg.ID, id).putLong(KvmIoctl.OneReg.ADDR, Sys.address(value));
        Sys.ioctl(kernel, fd, KvmIoctl.KVM_GET_ONE_REG, oneRegAddress);
    }

    @Override
    public void setOneReg(long id, ByteBuffer value) {
        forgetReads();
        oneReg.putLong(KvmIoctl.OneReg.ID, id).putLong(KvmIoctl.OneReg.ADDR, Sys.address(value));
        Sys.ioctl(kernel, fd, KvmIoctl.KVM_SET_ONE_REG, oneRegAddress);
    }

    @Override
    public ByteBuffer kvmRun() {
        return kvmRun.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0);
    }

    /** The shared buffer itself, for the run loop (no copy per exit). */
    ByteBuffer run() {
        return kvmRun;
    }

    /**
     * KVM_RUN on the calling thread: enters the guest until the next exit, whose reason is then in
     * {@link #kvmRun()}. The VM's own thread for this vCPU does this; anyone else (a benchmark)
     * may only while that thread is idle, that is while the vCPU is stopped.
     *
     * @return false when a signal (a kick) interrupted it before or during guest execution
     */
    public boolean enter() {
        forgetReads();
        long start = System.nanoTime();
        boolean exited = Sys.ioctlInterruptible(kernel, fd, KvmIoctl.KVM_RUN, 0) >= 0;
        counters.count(exited ? exitReason() : -1, System.nanoTime() - start);
        return exited;
    }

    /** Exits and time inside KVM_RUN so far; read only while the vCPU is stopped. */
    ExitCounters counters() {
        return counters;
    }

    /** {@code kvm_run.exit_reason} of the last exit. */
    int exitReason() {
        return kvmRun.getInt(KvmRunHeader.EXIT_REASON);
    }

    /**
     * KVM_SET_SIGNAL_MASK: the signal mask this thread has while inside KVM_RUN.
     *
     * @param glibcSigset a glibc sigset_t; its first {@link LibC#KERNEL_SIGSET_SIZE} bytes are the kernel's sigset
     */
    void setSignalMask(ByteBuffer glibcSigset) {
        ByteBuffer mask = VcpuHandle.buffer(KvmIoctl.SignalMask.SIGSET + LibC.KERNEL_SIGSET_SIZE);
        mask.putInt(KvmIoctl.SignalMask.LEN, LibC.KERNEL_SIGSET_SIZE);
        for (int i = 0; i < LibC.KERNEL_SIGSET_SIZE; i++) {
            mask.put(KvmIoctl.SignalMask.SIGSET + i, glibcSigset.get(i));
        }
        Sys.ioctl(kernel, fd, KvmIoctl.KVM_SET_SIGNAL_MASK, mask);
    }

    void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sys.munmap(kernel, runAddress, runSize);
        Sys.close(kernel, fd);
    }

    @Override
    public String toString() {
        return "vCPU " + index;
    }
}

package org.kvmgdb.core.kvm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
        return Sys.ioctl(kernel, fd, request, arg);
    }

    /** An ioctl whose argument is an integer, not a pointer. */
    int ioctl(long request, long arg) {
        return Sys.ioctl(kernel, fd, request, arg);
    }

    @Override
    public void getOneReg(long id, ByteBuffer value) {
        oneReg.putLong(KvmIoctl.OneReg.ID, id).putLong(KvmIoctl.OneReg.ADDR, Sys.address(value));
        Sys.ioctl(kernel, fd, KvmIoctl.KVM_GET_ONE_REG, oneRegAddress);
    }

    @Override
    public void setOneReg(long id, ByteBuffer value) {
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
        return kvmRun.getInt(KvmIoctl.Run.EXIT_REASON);
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

package org.kvmgdb.core.kvm;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.kvmgdb.core.kvm.KvmUnavailableException.Reason;

/** The open {@code /dev/kvm}: API version check, capabilities, VM creation. */
public final class Kvm implements AutoCloseable {
    /** Where KVM lives. */
    public static final Path DEVICE = Path.of("/dev/kvm");

    private final KvmKernel kernel;
    private final int fd;
    private final int vcpuMmapSize;
    private boolean closed;

    private Kvm(KvmKernel kernel, int fd, int vcpuMmapSize) {
        this.kernel = kernel;
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /**
     * Opens {@code /dev/kvm} and checks it speaks API version 12.
     *
     * @throws KvmUnavailableException with a one-line message saying what is wrong and what to do
     */
    public static Kvm open() {
        return open(KvmKernel.host(), DEVICE);
    }

    /**
     * Opens {@code /dev/kvm} of {@code kernel}: the host's ({@link KvmKernel#host()}, what
     * {@link #open()} does) or a simulated one, under which VMs, vCPU threads and
     * {@link KvmTarget} run exactly as they do on the host's.
     *
     * @throws KvmUnavailableException as {@link #open()}
     */
    public static Kvm open(KvmKernel kernel) {
        return open(kernel, DEVICE);
    }

    static Kvm open(Path device) {
        return open(KvmKernel.host(), device);
    }

    private static Kvm open(KvmKernel kernel, Path device) {
        int fd;
        try {
            fd = Sys.open(kernel, device.toString());
        } catch (KvmException e) {
            throw unavailable(device, e.errno());
        }
        try {
            int version;
            try {
                version = Sys.ioctl(kernel, fd, KvmIoctl.KVM_GET_API_VERSION, 0);
            } catch (KvmException e) {
                throw new KvmUnavailableException(Reason.OTHER, e.errno(), device + " does not answer KVM_GET_API_VERSION ("
                        + Sys.errnoName(e.errno()) + "): it is not a KVM device; check what is mounted there");
            }
            if (version != KvmIoctl.KVM_API_VERSION) {
                throw new KvmUnavailableException(Reason.WRONG_API_VERSION, 0, device + " speaks KVM API version " + version
                        + ", kvmgdb needs version " + KvmIoctl.KVM_API_VERSION + ": this kernel's KVM is not supported");
            }
            if (Sys.ioctl(kernel, fd, KvmIoctl.KVM_CHECK_EXTENSION, KvmIoctl.KVM_CAP_USER_MEMORY) == 0) {
                throw new KvmUnavailableException(Reason.WRONG_API_VERSION, 0,
                        device + " lacks KVM_CAP_USER_MEMORY: this kernel's KVM is too old for kvmgdb");
            }
            return new Kvm(kernel, fd, Sys.ioctl(kernel, fd, KvmIoctl.KVM_GET_VCPU_MMAP_SIZE, 0));
        } catch (RuntimeException e) {
            Sys.close(kernel, fd);
            throw e;
        }
    }

    /** The one-line explanation for an {@code open(/dev/kvm)} failure. */
    static KvmUnavailableException unavailable(Path device, int errno) {
        switch (errno) {
            case LibC.ENOENT:
                return new KvmUnavailableException(Reason.MISSING_DEVICE, errno, device
                        + " does not exist: KVM is not available here; enable virtualization and load kvm_intel or kvm_amd,"
                        + " or pass --device /dev/kvm to the container");
            case LibC.ENXIO:
            case LibC.ENODEV:
                return new KvmUnavailableException(Reason.MISSING_DEVICE, errno, device
                        + " exists but no KVM driver answers it: load kvm_intel or kvm_amd (sudo modprobe kvm_intel)");
            case LibC.EACCES:
            case LibC.EPERM:
                return new KvmUnavailableException(Reason.PERMISSION_DENIED, errno, "permission denied opening " + device
                        + ": add yourself to the kvm group: sudo usermod -aG kvm $USER (then log in again)");
            default:
                return new KvmUnavailableException(Reason.OTHER, errno,
                        "cannot open " + device + ": " + Sys.errnoName(errno) + " (errno " + errno + ")");
        }
    }

    /** Creates a VM with its RAM and vCPUs; nothing runs until it is started or debugged. */
    public Vm createVm(Vm.Config config) {
        return Vm.create(this, config);
    }

    /** {@code KVM_CHECK_EXTENSION} on /dev/kvm: 0 when the capability is absent. */
    public int checkExtension(int capability) {
        return Sys.ioctl(kernel, fd, KvmIoctl.KVM_CHECK_EXTENSION, capability);
    }

    int systemIoctl(long request, long arg) {
        return Sys.ioctl(kernel, fd, request, arg);
    }

    int systemIoctl(long request, ByteBuffer arg) {
        return Sys.ioctl(kernel, fd, request, arg);
    }

    /** The kernel this KVM belongs to; its VMs and vCPUs make their calls there too. */
    KvmKernel kernel() {
        return kernel;
    }

    int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Sys.close(kernel, fd);
        }
    }
}

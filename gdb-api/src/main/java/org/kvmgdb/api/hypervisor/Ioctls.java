package org.kvmgdb.api.hypervisor;

/**
 * Linux's {@code _IO/_IOR/_IOW/_IOWR} request encoding (include/uapi/asm-generic/ioctl.h), so
 * architecture code can compute the numbers of struct-sized KVM ioctls from its own struct sizes.
 * Valid for x86 and arm64, which use the generic encoding.
 */
public final class Ioctls {
    /** KVM's ioctl type, {@code KVMIO} in include/uapi/linux/kvm.h. */
    public static final int KVMIO = 0xAE;

    private static final int NRSHIFT = 0, TYPESHIFT = 8, SIZESHIFT = 16, DIRSHIFT = 30;
    private static final int NONE = 0, WRITE = 1, READ = 2;

    private Ioctls() {
    }

    private static long ioc(int dir, int type, int nr, int size) {
        return ((long) dir << DIRSHIFT) | ((long) type << TYPESHIFT) | ((long) nr << NRSHIFT) | ((long) size << SIZESHIFT);
    }

    public static long io(int type, int nr) {
        return ioc(NONE, type, nr, 0);
    }

    public static long ior(int type, int nr, int size) {
        return ioc(READ, type, nr, size);
    }

    public static long iow(int type, int nr, int size) {
        return ioc(WRITE, type, nr, size);
    }

    public static long iowr(int type, int nr, int size) {
        return ioc(READ | WRITE, type, nr, size);
    }

    /** Whether {@code request} is an {@code _IOR}: the kernel only writes its argument, changing nothing else it was asked to. */
    public static boolean isReadOnly(long request) {
        return ((request >>> DIRSHIFT) & 3) == READ;
    }

    /** {@code _IOC_SIZE(request)}: the size of the struct its argument points to. */
    public static int size(long request) {
        return (int) ((request >>> SIZESHIFT) & 0x3FFF);
    }
}

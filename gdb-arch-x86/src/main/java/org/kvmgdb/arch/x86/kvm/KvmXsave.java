package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_xsave} (arch/x86/include/uapi/asm/kvm.h), 4096 bytes ({@code __u32 region[1024]}),
 * for KVM_GET_XSAVE and KVM_SET_XSAVE: the vCPU's XSAVE area in the standard (non-compacted) format,
 * its state components at the offsets CPUID leaf 0xD gives on the host.
 *
 * <p>4096 bytes is the whole area unless the VMM enabled a dynamic feature (AMX) with
 * {@code arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM)}; this one does not, and KVM_GET_XSAVE refuses with
 * EINVAL rather than truncate when the area is bigger.
 */
public final class KvmXsave extends KvmStruct {
    public static final int SIZE = 4096;

    // 0..511: the legacy region, FXSAVE's layout (x87 and SSE state; KVM_GET_FPU shows the same).
    public static final int LEGACY_REGION = 0;
    // 512..575: the XSAVE header. XSTATE_BV: which components hold state (a clear bit means the
    // component is in its initial state, whatever its bytes say).
    public static final int XSTATE_BV = 512;
    // XCOMP_BV: 0 in the standard format, which is the only one KVM_SET_XSAVE accepts.
    public static final int XCOMP_BV = 520;
    // State component 2 (AVX): the upper 128 bits of ymm0..ymm15, 16 bytes each, at
    // CPUID.(EAX=0DH,ECX=2).EBX = 576, size EAX = 256 (the same on every CPU with AVX).
    public static final int YMM_HI128 = 576;
    public static final int YMM_HI128_STRIDE = 16;

    /** XSTATE_BV bits (arch/x86/include/asm/fpu/types.h: XFEATURE_MASK_FP, _SSE, _YMM). */
    public static final long XFEATURE_MASK_FP = 1L << 0, XFEATURE_MASK_SSE = 1L << 1, XFEATURE_MASK_YMM = 1L << 2;

    public KvmXsave() {
        super(SIZE);
    }

    /** KVM_GET_XSAVE. */
    public static KvmXsave read(VcpuHandle vcpu) {
        KvmXsave xsave = new KvmXsave();
        vcpu.ioctl(KvmIoctls.KVM_GET_XSAVE, xsave.buffer);
        return xsave;
    }

    /** KVM_SET_XSAVE. */
    public void write(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_XSAVE, buffer);
    }

    /** Offset of the upper 16 bytes of ymm{@code i}. */
    public static int ymmHigh(int i) {
        checkIndex(i, 16, "ymm");
        return YMM_HI128 + i * YMM_HI128_STRIDE;
    }

    public long xstateBv() {
        return buffer.getLong(XSTATE_BV);
    }

    public KvmXsave xstateBv(long value) {
        buffer.putLong(XSTATE_BV, value);
        return this;
    }

    /** Copies {@code length} bytes at {@code offset} into {@code dst}. */
    public void getBytes(int offset, byte[] dst, int at, int length) {
        buffer.get(offset, dst, at, length);
    }

    public KvmXsave putBytes(int offset, byte[] src, int at, int length) {
        buffer.put(offset, src, at, length);
        return this;
    }
}

package org.kvmgdb.arch.x86;

import static org.kvmgdb.api.arch.TypeDefinition.BitField.bit;

import java.util.List;
import java.util.function.IntFunction;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.FeatureBuilder;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.TypeDefinition;
import org.kvmgdb.api.arch.TypeDefinition.BitField;
import org.kvmgdb.api.arch.TypeDefinition.Field;
import org.kvmgdb.api.arch.TypeDefinition.Flags;
import org.kvmgdb.api.arch.TypeDefinition.Union;
import org.kvmgdb.api.arch.TypeDefinition.Vector;

/**
 * The x86-64 register table, as GDB 13 describes a 64-bit x86 target in
 * gdb/features/i386/64bit-core.xml, 64bit-sse.xml, 64bit-segments.xml and 64bit-avx.xml: the same
 * feature names, register names, order, sizes, types and groups. The {@code g} packet holds the
 * registers in this order; regnums are contiguous from 0 (rax = 0, xmm0 = 40 as in 64bit-sse.xml,
 * fs_base = 57 because a bare-metal target has no {@code org.gnu.gdb.i386.linux} feature and so no
 * orig_rax).
 *
 * <p>Between the segment bases and AVX sit the system registers a kernel developer reads, named and
 * typed as QEMU's gdb-xml/i386-64bit.xml has them ({@code k_gs_base}, {@code cr0}, {@code cr2},
 * {@code cr3}, {@code cr4}, {@code cr8}, {@code efer}; flags types {@code x64_cr0}, {@code x64_cr3},
 * {@code x64_cr4}, {@code x64_efer}), so gdb scripts written against QEMU ({@code $cr3},
 * {@code $efer}) work unchanged. QEMU keeps them in its own copy of {@code org.gnu.gdb.i386.core};
 * here GDB's features stay as GDB defines them and these go in {@code org.gnu.gdb.i386.sys}, the name
 * OpenOCD gives x86 control registers. GDB has no feature of that name and shows its registers as
 * they are described.
 *
 * <p>No {@code <osabi>}: the guest is bare metal, not Linux.
 *
 * <p>Adding a feature is one method that builds it from its first regnum and one entry in
 * {@link #FEATURES}.
 */
public final class X86Registers {
    /** GDB's {@code <architecture>} for 64-bit x86. */
    public static final String ARCHITECTURE = "i386:x86-64";

    public static final String CORE_FEATURE = "org.gnu.gdb.i386.core";
    public static final String SSE_FEATURE = "org.gnu.gdb.i386.sse";
    public static final String SEGMENTS_FEATURE = "org.gnu.gdb.i386.segments";
    public static final String SYSTEM_FEATURE = "org.gnu.gdb.i386.sys";
    public static final String AVX_FEATURE = "org.gnu.gdb.i386.avx";

    /** 64bit-core.xml's {@code i386_eflags}; bit 1 is reserved (always 1) and has an empty name there too. */
    static final Flags I386_EFLAGS = new Flags("i386_eflags", 4, List.of(
            bit("CF", 0), bit("", 1), bit("PF", 2), bit("AF", 4), bit("ZF", 6), bit("SF", 7),
            bit("TF", 8), bit("IF", 9), bit("DF", 10), bit("OF", 11), bit("NT", 14), bit("RF", 16),
            bit("VM", 17), bit("AC", 18), bit("VIF", 19), bit("VIP", 20), bit("ID", 21)));

    /** 64bit-sse.xml's {@code i386_mxcsr}. */
    static final Flags I386_MXCSR = new Flags("i386_mxcsr", 4, List.of(
            bit("IE", 0), bit("DE", 1), bit("ZE", 2), bit("OE", 3), bit("UE", 4), bit("PE", 5),
            bit("DAZ", 6), bit("IM", 7), bit("DM", 8), bit("ZM", 9), bit("OM", 10), bit("UM", 11),
            bit("PM", 12), bit("FZ", 15)));

    /** 64bit-sse.xml's vectors, in its order; {@link #VEC128} refers to them, so they come first. */
    static final List<TypeDefinition> SSE_VECTORS = List.of(
            new Vector("v8bf16", "bfloat16", 8),
            new Vector("v8h", "ieee_half", 8),
            new Vector("v4f", "ieee_single", 4),
            new Vector("v2d", "ieee_double", 2),
            new Vector("v16i8", "int8", 16),
            new Vector("v8i16", "int16", 8),
            new Vector("v4i32", "int32", 4),
            new Vector("v2i64", "int64", 2));

    /** 64bit-sse.xml's {@code vec128}: what {@code p $xmm0} shows. */
    static final Union VEC128 = new Union("vec128", List.of(
            new Field("v8_bfloat16", "v8bf16"),
            new Field("v8_half", "v8h"),
            new Field("v4_float", "v4f"),
            new Field("v2_double", "v2d"),
            new Field("v16_int8", "v16i8"),
            new Field("v8_int16", "v8i16"),
            new Field("v4_int32", "v4i32"),
            new Field("v2_int64", "v2i64"),
            new Field("uint128", "uint128")));

    /** QEMU's {@code x64_cr0} (gdb-xml/i386-64bit.xml). */
    static final Flags X64_CR0 = new Flags("x64_cr0", 8, List.of(
            bit("PG", 31), bit("CD", 30), bit("NW", 29), bit("AM", 18), bit("WP", 16), bit("NE", 5),
            bit("ET", 4), bit("TS", 3), bit("EM", 2), bit("MP", 1), bit("PE", 0)));

    /** QEMU's {@code x64_cr3}: the page-table base and, below it, the PCID (or PWT/PCD without PCIDE). */
    static final Flags X64_CR3 = new Flags("x64_cr3", 8, List.of(
            new BitField("PDBR", 12, 63), new BitField("PCID", 0, 11)));

    /** QEMU's {@code x64_cr4}. */
    static final Flags X64_CR4 = new Flags("x64_cr4", 8, List.of(
            bit("PKE", 22), bit("SMAP", 21), bit("SMEP", 20), bit("OSXSAVE", 18), bit("PCIDE", 17),
            bit("FSGSBASE", 16), bit("SMXE", 14), bit("VMXE", 13), bit("LA57", 12), bit("UMIP", 11),
            bit("OSXMMEXCPT", 10), bit("OSFXSR", 9), bit("PCE", 8), bit("PGE", 7), bit("MCE", 6),
            bit("PAE", 5), bit("PSE", 4), bit("DE", 3), bit("TSD", 2), bit("PVI", 1), bit("VME", 0)));

    /** QEMU's {@code x64_efer}. */
    static final Flags X64_EFER = new Flags("x64_efer", 8, List.of(
            bit("TCE", 15), bit("FFXSR", 14), bit("LMSLE", 13), bit("SVME", 12), bit("NXE", 11),
            bit("LMA", 10), bit("LME", 8), bit("SCE", 0)));

    /** The features in {@code g} packet order; each is built from the regnum after the previous one's last. */
    private static final List<IntFunction<Feature>> FEATURES = List.of(
            X86Registers::core,
            X86Registers::sse,
            X86Registers::segments,
            X86Registers::system,
            X86Registers::avx);

    private static final TargetDescription DESCRIPTION = describe(FEATURES);

    private X86Registers() {
    }

    /** The x86-64 target description (immutable, shared). */
    public static TargetDescription targetDescription() {
        return DESCRIPTION;
    }

    static TargetDescription describe(List<IntFunction<Feature>> features) {
        return TargetDescription.of(ARCHITECTURE, null, features);
    }

    /** 64bit-core.xml: general registers, rip, eflags, segment selectors and the x87 state. */
    static Feature core(int firstRegnum) {
        return new FeatureBuilder(CORE_FEATURE, firstRegnum)
                .type(I386_EFLAGS)
                .regs(List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi"), 64, "int64", null)
                .regs(List.of("rbp", "rsp"), 64, "data_ptr", null)
                .numbered("r", 8, 15, 64, "int64", null)
                .reg("rip", 64, "code_ptr")
                .reg("eflags", 32, "i386_eflags")
                // Selectors are 16 bits in the CPU, 32 in GDB's layout.
                .regs(List.of("cs", "ss", "ds", "es", "fs", "gs"), 32, "int32", null)
                .numbered("st", 0, 7, 80, "i387_ext", null)
                .regs(List.of("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"), 32, "int", "float")
                .build();
    }

    /** 64bit-sse.xml: xmm0..xmm15 and mxcsr. */
    static Feature sse(int firstRegnum) {
        FeatureBuilder b = new FeatureBuilder(SSE_FEATURE, firstRegnum);
        SSE_VECTORS.forEach(b::type);
        return b.type(VEC128)
                .type(I386_MXCSR)
                .numbered("xmm", 0, 15, 128, "vec128", null)
                .reg("mxcsr", 32, "i386_mxcsr", "vector")
                .build();
    }

    /** 64bit-segments.xml: the FS and GS bases, which 64-bit code uses instead of the selectors. */
    static Feature segments(int firstRegnum) {
        return new FeatureBuilder(SEGMENTS_FEATURE, firstRegnum)
                .reg("fs_base", 64, "int")
                .reg("gs_base", 64, "int")
                .build();
    }

    /**
     * QEMU's system registers (gdb-xml/i386-64bit.xml, after the segment bases): the inactive GS base
     * SWAPGS brings in, the control registers and EFER, in QEMU's order with QEMU's types.
     */
    static Feature system(int firstRegnum) {
        return new FeatureBuilder(SYSTEM_FEATURE, firstRegnum)
                .type(X64_CR0)
                .type(X64_CR3)
                .type(X64_CR4)
                .type(X64_EFER)
                .reg("k_gs_base", 64, "int64")
                .reg("cr0", 64, "x64_cr0")
                .reg("cr2", 64, "int64")
                .reg("cr3", 64, "x64_cr3")
                .reg("cr4", 64, "x64_cr4")
                .reg("cr8", 64, "int64")
                .reg("efer", 64, "x64_efer")
                .build();
    }

    /** 64bit-avx.xml: the upper halves of ymm0..ymm15; gdb builds {@code $ymm0}.. from these and the xmm registers. */
    static Feature avx(int firstRegnum) {
        return new FeatureBuilder(AVX_FEATURE, firstRegnum)
                .numbered("ymm", 0, 15, 128, "uint128", null, "h")
                .build();
    }
}

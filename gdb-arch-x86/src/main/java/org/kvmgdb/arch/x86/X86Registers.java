package org.kvmgdb.arch.x86;

import static org.kvmgdb.api.arch.TypeDefinition.BitField.bit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.TypeDefinition;
import org.kvmgdb.api.arch.TypeDefinition.Field;
import org.kvmgdb.api.arch.TypeDefinition.Flags;
import org.kvmgdb.api.arch.TypeDefinition.Union;
import org.kvmgdb.api.arch.TypeDefinition.Vector;

/**
 * The x86-64 register table, as GDB 13 describes a 64-bit x86 target in
 * gdb/features/i386/64bit-core.xml, 64bit-sse.xml and 64bit-segments.xml: the same feature names,
 * register names, order, sizes, types and groups. The {@code g} packet holds the registers in this
 * order; regnums are contiguous from 0 (rax = 0, xmm0 = 40 as in 64bit-sse.xml, fs_base = 57
 * because a bare-metal target has no {@code org.gnu.gdb.i386.linux} feature and so no orig_rax).
 *
 * <p>No {@code <osabi>}: the guest is bare metal, not Linux.
 *
 * <p>Adding a feature (QEMU's control registers, {@code org.gnu.gdb.i386.avx}) is one method that
 * builds it from its first regnum and one entry in {@link #FEATURES}.
 */
public final class X86Registers {
    /** GDB's {@code <architecture>} for 64-bit x86. */
    public static final String ARCHITECTURE = "i386:x86-64";

    public static final String CORE_FEATURE = "org.gnu.gdb.i386.core";
    public static final String SSE_FEATURE = "org.gnu.gdb.i386.sse";
    public static final String SEGMENTS_FEATURE = "org.gnu.gdb.i386.segments";

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

    /** The features in {@code g} packet order; each is built from the regnum after the previous one's last. */
    private static final List<IntFunction<Feature>> FEATURES = List.of(
            X86Registers::core,
            X86Registers::sse,
            X86Registers::segments);

    private static final TargetDescription DESCRIPTION = describe(FEATURES);

    private X86Registers() {
    }

    /** The x86-64 target description (immutable, shared). */
    public static TargetDescription targetDescription() {
        return DESCRIPTION;
    }

    static TargetDescription describe(List<IntFunction<Feature>> features) {
        List<Feature> built = new ArrayList<>();
        int next = 0;
        for (IntFunction<Feature> f : features) {
            Feature feature = f.apply(next);
            built.add(feature);
            next += feature.registers().size();
        }
        return new TargetDescription(ARCHITECTURE, null, built);
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
}

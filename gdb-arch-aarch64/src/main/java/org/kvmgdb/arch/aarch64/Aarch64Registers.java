package org.kvmgdb.arch.aarch64;

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
 * The AArch64 register table, as GDB 13 describes it in gdb/features/aarch64-core.xml and
 * aarch64-fpu.xml (the types as GDB 13.1's generated aarch64-fpu.c builds them: {@code vnh} has
 * a {@code bf} field, {@code fpcr_flags} has EBF, Len and Stride). Regnums are contiguous from 0:
 * x0 = 0, sp = 31, pc = 32, cpsr = 33, v0 = 34 (as aarch64-fpu.xml says), fpsr = 66, fpcr = 67,
 * then the EL1 system registers of {@link #SYS_FEATURE} from 68.
 *
 * <p>Adding a feature is one method that builds it from its first regnum and one entry in
 * {@link #FEATURES}.
 */
public final class Aarch64Registers {
    /** GDB's {@code <architecture>}. */
    public static final String ARCHITECTURE = "aarch64";

    public static final String CORE_FEATURE = "org.gnu.gdb.aarch64.core";
    public static final String FPU_FEATURE = "org.gnu.gdb.aarch64.fpu";
    /**
     * The EL1 system registers a kernel debugger wants. GDB has no such feature; it keeps the
     * registers of a feature it does not know as plain target registers ({@code p $ttbr1_el1},
     * {@code info registers system}). The name follows GDB's {@code org.gnu.gdb.} convention, which
     * the architecture contract requires of every feature.
     */
    public static final String SYS_FEATURE = "org.gnu.gdb.aarch64.sys";

    /** Names of the system feature's registers, in {@code g} order. */
    static final List<String> SYS_REGISTERS = List.of(
            "sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "vbar_el1", "esr_el1", "far_el1",
            "elr_el1", "spsr_el1", "sp_el0", "sp_el1", "tpidr_el1", "contextidr_el1", "cntvct_el0");

    /** aarch64-core.xml's {@code cpsr_flags}: PSTATE as SPSR_ELx lays it out. */
    static final Flags CPSR_FLAGS = new Flags("cpsr_flags", 4, List.of(
            bit("SP", 0), new BitField("EL", 2, 3), bit("nRW", 4),
            bit("F", 6), bit("I", 7), bit("A", 8), bit("D", 9),
            new BitField("BTYPE", 10, 11), bit("SSBS", 12),
            bit("IL", 20), bit("SS", 21), bit("PAN", 22), bit("UAO", 23), bit("DIT", 24), bit("TCO", 25),
            bit("V", 28), bit("C", 29), bit("Z", 30), bit("N", 31)));

    /** aarch64-fpu.xml's {@code fpsr_flags}. */
    static final Flags FPSR_FLAGS = new Flags("fpsr_flags", 4, List.of(
            bit("IOC", 0), bit("DZC", 1), bit("OFC", 2), bit("UFC", 3), bit("IXC", 4), bit("IDC", 7),
            bit("QC", 27), bit("V", 28), bit("C", 29), bit("Z", 30), bit("N", 31)));

    /** aarch64-fpu.xml's {@code fpcr_flags} as GDB 13 has it. */
    static final Flags FPCR_FLAGS = new Flags("fpcr_flags", 4, List.of(
            bit("FIZ", 0), bit("AH", 1), bit("NEP", 2),
            bit("IOE", 8), bit("DZE", 9), bit("OFE", 10), bit("UFE", 11), bit("IXE", 12), bit("EBF", 13),
            bit("IDE", 15), new BitField("Len", 16, 18), bit("FZ16", 19), new BitField("Stride", 20, 21),
            new BitField("RMode", 22, 23), bit("FZ", 24), bit("DN", 25), bit("AHP", 26)));

    /**
     * aarch64-fpu.xml's vector and union types, in its order (a union refers only to types before
     * it); {@code aarch64v} is what {@code p $v0} shows: {@code d}, {@code s}, {@code h}, {@code b},
     * {@code q} views of the 128 bits.
     */
    static final List<TypeDefinition> FPU_VECTOR_TYPES = List.of(
            new Vector("v2d", "ieee_double", 2),
            new Vector("v2u", "uint64", 2),
            new Vector("v2i", "int64", 2),
            new Vector("v4f", "ieee_single", 4),
            new Vector("v4u", "uint32", 4),
            new Vector("v4i", "int32", 4),
            new Vector("v8f", "ieee_half", 8),
            new Vector("v8u", "uint16", 8),
            new Vector("v8i", "int16", 8),
            new Vector("v8bf16", "bfloat16", 8),
            new Vector("v16u", "uint8", 16),
            new Vector("v16i", "int8", 16),
            new Vector("v1u", "uint128", 1),
            new Vector("v1i", "int128", 1),
            new Union("vnd", List.of(new Field("f", "v2d"), new Field("u", "v2u"), new Field("s", "v2i"))),
            new Union("vns", List.of(new Field("f", "v4f"), new Field("u", "v4u"), new Field("s", "v4i"))),
            new Union("vnh", List.of(new Field("bf", "v8bf16"), new Field("f", "v8f"), new Field("u", "v8u"),
                    new Field("s", "v8i"))),
            new Union("vnb", List.of(new Field("u", "v16u"), new Field("s", "v16i"))),
            new Union("vnq", List.of(new Field("u", "v1u"), new Field("s", "v1i"))),
            new Union("aarch64v", List.of(new Field("d", "vnd"), new Field("s", "vns"), new Field("h", "vnh"),
                    new Field("b", "vnb"), new Field("q", "vnq"))));

    /** The features in {@code g} packet order; each is built from the regnum after the previous one's last. */
    private static final List<IntFunction<Feature>> FEATURES = List.of(
            Aarch64Registers::core,
            Aarch64Registers::fpu,
            Aarch64Registers::sys);

    private static final TargetDescription DESCRIPTION = describe(FEATURES);

    private Aarch64Registers() {
    }

    /** The AArch64 target description (immutable, shared). */
    public static TargetDescription targetDescription() {
        return DESCRIPTION;
    }

    static TargetDescription describe(List<IntFunction<Feature>> features) {
        return TargetDescription.of(ARCHITECTURE, null, features);
    }

    /** aarch64-core.xml: x0..x30 (no type there, so GDB's default {@code int}), sp, pc, cpsr. */
    static Feature core(int firstRegnum) {
        return new FeatureBuilder(CORE_FEATURE, firstRegnum)
                .type(CPSR_FLAGS)
                .numbered("x", 0, 30, 64, "int", null)
                .reg("sp", 64, "data_ptr")
                .reg("pc", 64, "code_ptr")
                .reg("cpsr", 32, "cpsr_flags")
                .build();
    }

    /** aarch64-fpu.xml: the 128-bit SIMD&amp;FP registers v0..v31, fpsr, fpcr. */
    static Feature fpu(int firstRegnum) {
        FeatureBuilder b = new FeatureBuilder(FPU_FEATURE, firstRegnum);
        FPU_VECTOR_TYPES.forEach(b::type);
        return b.type(FPSR_FLAGS)
                .type(FPCR_FLAGS)
                .numbered("v", 0, 31, 128, "aarch64v", null)
                .reg("fpsr", 32, "fpsr_flags")
                .reg("fpcr", 32, "fpcr_flags")
                .build();
    }

    /**
     * The EL1 system registers, all 64 bits, in GDB's {@code system} group
     * ({@code info registers system}; gdb-multiarch 13's aarch64 also counts them as general).
     * Addresses get pointer types so GDB prints symbols:
     * {@code vbar_el1} and {@code elr_el1} are code addresses, the stack pointers data addresses.
     * {@code cntvct_el0} has {@code save-restore="no"}: it is read-only here (see
     * {@link Aarch64RegisterAccess}), and a counter restored to the value it had before an inferior
     * call would be time running backwards.
     */
    static Feature sys(int firstRegnum) {
        FeatureBuilder b = new FeatureBuilder(SYS_FEATURE, firstRegnum);
        for (String name : SYS_REGISTERS) {
            String type;
            switch (name) {
                case "vbar_el1":
                case "elr_el1":
                    type = "code_ptr";
                    break;
                case "sp_el0":
                case "sp_el1":
                    type = "data_ptr";
                    break;
                default:
                    type = "uint64";
                    break;
            }
            // cntvct_el0 counts on by itself: gdb must not write an old value back after an inferior call.
            b.reg(name, 64, type, "system", !name.equals("cntvct_el0"));
        }
        return b.build();
    }
}

package org.kvmgdb.core.testing;

import java.util.ArrayList;
import java.util.List;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.TypeDefinition;

/** Made-up register tables for tests that need no real architecture. */
public final class TestDescriptions {
    private TestDescriptions() {
    }

    /**
     * {@code r0 r1 sp pc} (8 bytes each) and {@code flags} (4 bytes) in one feature, and a 16-byte
     * {@code v0} in a second: a 52-byte {@code g} packet with registers of three sizes.
     */
    public static TargetDescription small() {
        Feature core = new Feature("org.kvmgdb.test.core", List.of(
                new TypeDefinition.Flags("test_flags", 4, List.of(TypeDefinition.BitField.bit("Z", 0)))), List.of(
                new RegisterDescriptor("r0", 64, "int", "general", 0),
                new RegisterDescriptor("r1", 64, "int", "general", 1),
                new RegisterDescriptor("sp", 64, "data_ptr", "general", 2),
                new RegisterDescriptor("pc", 64, "code_ptr", "general", 3),
                new RegisterDescriptor("flags", 32, "test_flags", "general", 4)));
        Feature vector = new Feature("org.kvmgdb.test.vector", List.of(), List.of(
                new RegisterDescriptor("v0", 128, "uint128", "vector", 5)));
        return new TargetDescription("kvmgdb-test", null, List.of(core, vector));
    }

    /**
     * What a stop reply expedites for {@link #small()}: {@code sp} (regnum 2) and {@code pc} (regnum
     * 3), the only {@code data_ptr} named like a stack pointer and the {@code code_ptr}, little-endian.
     */
    public static String smallExpedited(long sp, long pc) {
        return "02:" + le64(sp) + ";03:" + le64(pc) + ";";
    }

    private static String le64(long v) {
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            hex.append(String.format("%02x", (v >>> (8 * i)) & 0xFF));
        }
        return hex.toString();
    }

    /**
     * Just enough x86-64 for a real gdb to accept the target ({@code org.gnu.gdb.i386.core} and
     * {@code .sse} with GDB's register names, sizes and order); simplified types. The real table is
     * gdb-arch-x86's business; this one only lets gdb-core test the session against real gdb.
     */
    public static TargetDescription x86_64() {
        List<RegisterDescriptor> core = new ArrayList<>();
        int n = 0;
        for (String r : new String[] {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}) {
            core.add(new RegisterDescriptor(r, 64, r.equals("rbp") || r.equals("rsp") ? "data_ptr" : "int64", null, n++));
        }
        core.add(new RegisterDescriptor("rip", 64, "code_ptr", null, n++));
        core.add(new RegisterDescriptor("eflags", 32, "i386_eflags", null, n++));
        for (String r : new String[] {"cs", "ss", "ds", "es", "fs", "gs"}) {
            core.add(new RegisterDescriptor(r, 32, "int32", null, n++));
        }
        for (int i = 0; i < 8; i++) {
            core.add(new RegisterDescriptor("st" + i, 80, "i387_ext", null, n++));
        }
        for (String r : new String[] {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"}) {
            core.add(new RegisterDescriptor(r, 32, "int", "float", n++));
        }
        List<RegisterDescriptor> sse = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            sse.add(new RegisterDescriptor("xmm" + i, 128, "vec128", null, n++));
        }
        sse.add(new RegisterDescriptor("mxcsr", 32, "int", "vector", n++));
        Feature coreFeature = new Feature("org.gnu.gdb.i386.core", List.of(new TypeDefinition.Flags("i386_eflags", 4, List.of(
                TypeDefinition.BitField.bit("CF", 0), TypeDefinition.BitField.bit("ZF", 6), TypeDefinition.BitField.bit("IF", 9)))), core);
        Feature sseFeature = new Feature("org.gnu.gdb.i386.sse", List.of(
                new TypeDefinition.Vector("v4i32", "int32", 4),
                new TypeDefinition.Union("vec128", List.of(new TypeDefinition.Field("v4_int32", "v4i32"),
                        new TypeDefinition.Field("uint128", "uint128")))), sse);
        return new TargetDescription("i386:x86-64", null, List.of(coreFeature, sseFeature));
    }
}

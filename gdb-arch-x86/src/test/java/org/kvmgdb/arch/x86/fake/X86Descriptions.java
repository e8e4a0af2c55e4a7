package org.kvmgdb.arch.x86.fake;

import java.util.ArrayList;
import java.util.List;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;

/**
 * The register table of GDB 13's amd64 features (gdb/features/i386/64bit-core.xml, 64bit-sse.xml,
 * 64bit-segments.xml) as the provider is to build it, for tests of code that must only look
 * registers up by name.
 */
public final class X86Descriptions {
    private X86Descriptions() {
    }

    public static TargetDescription gdb13() {
        List<RegisterDescriptor> core = new ArrayList<>();
        int n = 0;
        for (String r : new String[] {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}) {
            core.add(new RegisterDescriptor(r, 64, "int64", "general", n++));
        }
        core.add(new RegisterDescriptor("rip", 64, "code_ptr", "general", n++));
        core.add(new RegisterDescriptor("eflags", 32, "i386_eflags", "general", n++));
        for (String r : new String[] {"cs", "ss", "ds", "es", "fs", "gs"}) {
            core.add(new RegisterDescriptor(r, 32, "int32", "general", n++));
        }
        for (int i = 0; i < 8; i++) {
            core.add(new RegisterDescriptor("st" + i, 80, "i387_ext", "float", n++));
        }
        for (String r : new String[] {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"}) {
            core.add(new RegisterDescriptor(r, 32, "int", "float", n++));
        }
        List<RegisterDescriptor> sse = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            sse.add(new RegisterDescriptor("xmm" + i, 128, "vec128", "vector", n++));
        }
        sse.add(new RegisterDescriptor("mxcsr", 32, "i386_mxcsr", "vector", n++));
        List<RegisterDescriptor> segments = List.of(
                new RegisterDescriptor("fs_base", 64, "int", "system", n++),
                new RegisterDescriptor("gs_base", 64, "int", "system", n++));
        return new TargetDescription("i386:x86-64", null, List.of(
                new Feature("org.gnu.gdb.i386.core", List.of(), core),
                new Feature("org.gnu.gdb.i386.sse", List.of(), sse),
                new Feature("org.gnu.gdb.i386.segments", List.of(), segments)));
    }
}

package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.TypeDefinition;
import org.kvmgdb.api.arch.contract.ArchitectureContract;
import org.kvmgdb.api.arch.contract.KernelLikeVcpu;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.fake.FakeMsrs;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.arch.x86.kvm.KvmMsrs;

class X86_64ArchitectureTest extends ArchitectureContract {

    @Override
    protected ArchitectureProvider provider() {
        return new X86_64ArchitectureProvider();
    }

    @Override
    protected String gdbBinary() {
        return "/usr/bin/gdb";
    }

    @Override
    protected int defaultBreakpointKind() {
        return 1;
    }

    /**
     * A vCPU whose GET_REGS/SREGS/FPU/XSAVE return what the SET ioctls stored, as KVM does, and whose
     * KVM_GET/SET_MSRS serve the entries of their flexible array as the kernel's msr_io does.
     */
    @Override
    protected Optional<VcpuHandle> kernelLikeVcpu() {
        FakeMsrs msrs = new FakeMsrs(KvmMsrs.MSR_KERNEL_GS_BASE);
        return Optional.of(new KernelLikeVcpu(0)
                .pair(KvmIoctls.KVM_SET_REGS, KvmIoctls.KVM_GET_REGS)
                .pair(KvmIoctls.KVM_SET_SREGS, KvmIoctls.KVM_GET_SREGS)
                .pair(KvmIoctls.KVM_SET_FPU, KvmIoctls.KVM_GET_FPU)
                .pair(KvmIoctls.KVM_SET_XSAVE, KvmIoctls.KVM_GET_XSAVE)
                .handle(KvmIoctls.KVM_GET_MSRS, msrs::get)
                .handle(KvmIoctls.KVM_SET_MSRS, msrs::set));
    }

    /**
     * KVM keeps narrower fields than gdb's 32-bit slots: selectors, fcw and fsw are 16 bits
     * (kvm_segment.selector, kvm_fpu.fcw/fsw) and fop is 11 bits; random values are trimmed to what
     * the kernel stores, so the round trip still checks every bit that exists.
     */
    @Override
    protected void makeAcceptableToKernel(TargetDescription d, byte[] g) {
        for (String name : List.of("cs", "ss", "ds", "es", "fs", "gs", "fctrl", "fstat", "fop")) {
            int offset = d.offsetOf(d.register(name).orElseThrow().regnum());
            g[offset + 2] = 0;
            g[offset + 3] = 0;
            if (name.equals("fop")) {
                g[offset + 1] &= 0x07;
            }
        }
    }

    /** ftag is rebuilt from FXSAVE's abridged tag (empty or not) and the st registers' contents. */
    @Override
    protected boolean keptVerbatim(RegisterDescriptor register) {
        return !register.name().equals("ftag");
    }

    private static List<String> names(Feature f) {
        return f.registers().stream().map(RegisterDescriptor::name).collect(Collectors.toList());
    }

    private static List<String> numbered(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + i).collect(Collectors.toList());
    }

    private static Feature feature(String name) {
        return X86Registers.targetDescription().features().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void identifiesAsX86_64() {
        ArchitectureProvider p = provider();
        assertEquals("x86-64", p.id());
        assertEquals(62, p.elfMachine());
        assertEquals("i386:x86-64", p.targetDescription().architecture());
        assertNull(p.targetDescription().osabi(), "bare metal: no <osabi>");
        assertEquals(List.of("org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments",
                        "org.gnu.gdb.i386.sys", "org.gnu.gdb.i386.avx"),
                p.targetDescription().features().stream().map(Feature::name).collect(Collectors.toList()));
    }

    @Test
    void coreFeatureHasExactlyGdb13CoreRegisters() {
        // gdb/features/i386/64bit-core.xml, in its order.
        List<String> expected = Stream.of(
                List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags",
                        "cs", "ss", "ds", "es", "fs", "gs"),
                numbered("st", 8),
                List.of("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"))
                .flatMap(List::stream).collect(Collectors.toList());
        Feature core = feature("org.gnu.gdb.i386.core");
        assertEquals(expected, names(core));

        TargetDescription d = X86Registers.targetDescription();
        assertEquals("code_ptr", d.register("rip").orElseThrow().type());
        assertEquals("data_ptr", d.register("rsp").orElseThrow().type());
        assertEquals("data_ptr", d.register("rbp").orElseThrow().type());
        assertEquals("int64", d.register("r15").orElseThrow().type());
        assertEquals(32, d.register("eflags").orElseThrow().bitSize());
        assertEquals("i386_eflags", d.register("eflags").orElseThrow().type());
        assertEquals("int32", d.register("gs").orElseThrow().type());
        assertEquals(80, d.register("st7").orElseThrow().bitSize());
        assertEquals("i387_ext", d.register("st0").orElseThrow().type());
        core.registers().stream().filter(r -> r.name().startsWith("f") && !r.name().equals("fs"))
                .forEach(r -> assertEquals("float", r.group(), r.name()));
        assertEquals(List.of("i386_eflags"), core.types().stream().map(TypeDefinition::id).collect(Collectors.toList()));
    }

    @Test
    void eflagsFieldsAreGdbs() {
        List<String> fields = X86Registers.I386_EFLAGS.fields().stream()
                .map(b -> b.name() + "@" + b.start() + "-" + b.end()).collect(Collectors.toList());
        assertEquals(List.of("CF@0-0", "@1-1", "PF@2-2", "AF@4-4", "ZF@6-6", "SF@7-7", "TF@8-8", "IF@9-9", "DF@10-10",
                "OF@11-11", "NT@14-14", "RF@16-16", "VM@17-17", "AC@18-18", "VIF@19-19", "VIP@20-20", "ID@21-21"), fields);
    }

    @Test
    void sseFeatureIsGdbs() {
        Feature sse = feature("org.gnu.gdb.i386.sse");
        List<String> expected = Stream.concat(numbered("xmm", 16).stream(), Stream.of("mxcsr")).collect(Collectors.toList());
        assertEquals(expected, names(sse));
        TargetDescription d = X86Registers.targetDescription();
        assertEquals(40, d.register("xmm0").orElseThrow().regnum(), "64bit-sse.xml numbers xmm0 40");
        assertEquals("vec128", d.register("xmm15").orElseThrow().type());
        RegisterDescriptor mxcsr = d.register("mxcsr").orElseThrow();
        assertEquals("i386_mxcsr", mxcsr.type());
        assertEquals("vector", mxcsr.group());
        assertEquals(List.of("v8_bfloat16", "v8_half", "v4_float", "v2_double", "v16_int8", "v8_int16", "v4_int32", "v2_int64", "uint128"),
                X86Registers.VEC128.fields().stream().map(TypeDefinition.Field::name).collect(Collectors.toList()));
        assertEquals(List.of("IE", "DE", "ZE", "OE", "UE", "PE", "DAZ", "IM", "DM", "ZM", "OM", "UM", "PM", "FZ"),
                X86Registers.I386_MXCSR.fields().stream().map(TypeDefinition.BitField::name).collect(Collectors.toList()));
    }

    @Test
    void segmentBasesFollowSse() {
        assertEquals(List.of("fs_base", "gs_base"), names(feature("org.gnu.gdb.i386.segments")));
        TargetDescription d = X86Registers.targetDescription();
        assertEquals(57, d.register("fs_base").orElseThrow().regnum());
        assertEquals(58, d.register("gs_base").orElseThrow().regnum());
    }

    @Test
    void systemRegistersAreQemusNamesAndTypes() {
        // QEMU's gdb-xml/i386-64bit.xml: k_gs_base after the bases, then cr0 cr2 cr3 cr4 cr8 efer.
        Feature sys = feature("org.gnu.gdb.i386.sys");
        assertEquals(List.of("k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer"), names(sys));
        assertEquals(List.of("int64", "x64_cr0", "int64", "x64_cr3", "x64_cr4", "int64", "x64_efer"),
                sys.registers().stream().map(RegisterDescriptor::type).collect(Collectors.toList()));
        sys.registers().forEach(r -> assertEquals(64, r.bitSize(), r.name()));
        sys.registers().forEach(r -> assertNull(r.group(), r.name() + ": QEMU gives no group, so info registers shows it"));
        TargetDescription d = X86Registers.targetDescription();
        assertEquals(59, d.register("k_gs_base").orElseThrow().regnum(), "right after gs_base");
        assertEquals(65, d.register("efer").orElseThrow().regnum());
        assertEquals(List.of("x64_cr0", "x64_cr3", "x64_cr4", "x64_efer"),
                sys.types().stream().map(TypeDefinition::id).collect(Collectors.toList()));
    }

    @Test
    void controlRegisterFlagsAreQemus() {
        assertEquals(List.of("PG@31-31", "CD@30-30", "NW@29-29", "AM@18-18", "WP@16-16", "NE@5-5", "ET@4-4",
                "TS@3-3", "EM@2-2", "MP@1-1", "PE@0-0"), bits(X86Registers.X64_CR0));
        assertEquals(List.of("PDBR@12-63", "PCID@0-11"), bits(X86Registers.X64_CR3));
        assertEquals(List.of("PKE@22-22", "SMAP@21-21", "SMEP@20-20", "OSXSAVE@18-18", "PCIDE@17-17", "FSGSBASE@16-16",
                "SMXE@14-14", "VMXE@13-13", "LA57@12-12", "UMIP@11-11", "OSXMMEXCPT@10-10", "OSFXSR@9-9", "PCE@8-8",
                "PGE@7-7", "MCE@6-6", "PAE@5-5", "PSE@4-4", "DE@3-3", "TSD@2-2", "PVI@1-1", "VME@0-0"), bits(X86Registers.X64_CR4));
        assertEquals(List.of("TCE@15-15", "FFXSR@14-14", "LMSLE@13-13", "SVME@12-12", "NXE@11-11", "LMA@10-10",
                "LME@8-8", "SCE@0-0"), bits(X86Registers.X64_EFER));
        List.of(X86Registers.X64_CR0, X86Registers.X64_CR3, X86Registers.X64_CR4, X86Registers.X64_EFER)
                .forEach(f -> assertEquals(8, f.size(), f.id()));
    }

    @Test
    void avxFeatureIsGdbs() {
        // gdb/features/i386/64bit-avx.xml
        Feature avx = feature("org.gnu.gdb.i386.avx");
        assertEquals(IntStream.range(0, 16).mapToObj(i -> "ymm" + i + "h").collect(Collectors.toList()), names(avx));
        avx.registers().forEach(r -> {
            assertEquals(128, r.bitSize(), r.name());
            assertEquals("uint128", r.type(), r.name());
            assertNull(r.group(), r.name());
        });
        assertEquals(66, X86Registers.targetDescription().register("ymm0h").orElseThrow().regnum());
        assertEquals(81, X86Registers.targetDescription().register("ymm15h").orElseThrow().regnum());
        assertEquals(82, X86Registers.targetDescription().registers().size());
    }

    private static List<String> bits(TypeDefinition.Flags f) {
        return f.fields().stream().map(b -> b.name() + "@" + b.start() + "-" + b.end()).collect(Collectors.toList());
    }

    @Test
    void gPacketHoldsTheRegistersAtGdbsOffsets() {
        TargetDescription d = X86Registers.targetDescription();
        // 16 GPRs and rip of 8 bytes, eflags and 6 selectors of 4, 8 x87 registers of 10,
        // 8 x87 control words of 4, 16 xmm of 16, mxcsr 4, two bases of 8, k_gs_base and six
        // control registers of 8, sixteen ymm upper halves of 16.
        int fsBase = 17 * 8 + 7 * 4 + 8 * 10 + 8 * 4 + 16 * 16 + 4;
        assertEquals(17 * 8 + 7 * 4, d.offsetOf(d.register("st0").orElseThrow().regnum()));
        assertEquals(17 * 8 + 7 * 4 + 8 * 10 + 8 * 4, d.offsetOf(d.register("xmm0").orElseThrow().regnum()));
        assertEquals(fsBase, d.offsetOf(d.register("fs_base").orElseThrow().regnum()));
        assertEquals(fsBase + 2 * 8, d.offsetOf(d.register("k_gs_base").orElseThrow().regnum()));
        assertEquals(fsBase + 3 * 8, d.offsetOf(d.register("cr0").orElseThrow().regnum()));
        assertEquals(fsBase + 8 * 8, d.offsetOf(d.register("efer").orElseThrow().regnum()));
        assertEquals(fsBase + 9 * 8, d.offsetOf(d.register("ymm0h").orElseThrow().regnum()));
        assertEquals(fsBase + 9 * 8 + 16 * 16, d.gPacketSize());
    }

    @Test
    void int3IsTheBreakpointForKindOneOnly() {
        assertArrayEquals(new byte[] {(byte) 0xCC}, provider().softwareBreakpoint().instruction(1));
        assertNull(provider().softwareBreakpoint().instruction(0));
        assertNull(provider().softwareBreakpoint().instruction(2));
        assertNull(provider().softwareBreakpoint().instruction(4));
    }
}

package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.TypeDefinition;
import org.kvmgdb.api.arch.contract.ArchitectureContract;
import org.kvmgdb.api.arch.contract.KernelLikeVcpu;
import org.kvmgdb.api.hypervisor.VcpuHandle;

class Aarch64ArchitectureTest extends ArchitectureContract {

    /** PSTATE modes (SPSR_ELx.M[3:0]): EL0t, EL1t (SP_EL0), EL1h (SP_EL1). */
    static final long EL0T = 0b0000, EL1T = 0b0100, EL1H = 0b0101;
    /** DAIF all masked, bits 9:6. */
    static final long DAIF = 0xFL << 6;

    @Override
    protected ArchitectureProvider provider() {
        return new Aarch64ArchitectureProvider();
    }

    @Override
    protected String gdbBinary() {
        return "gdb-multiarch";
    }

    @Override
    protected int defaultBreakpointKind() {
        return 4;
    }

    @Override
    protected Optional<VcpuHandle> kernelLikeVcpu() {
        return Optional.of(new KernelLikeVcpu(0));
    }

    /**
     * KVM refuses a PSTATE whose mode is not an AArch64 EL0/EL1 mode; random cpsr bytes get EL1h.
     * In EL1h gdb's sp and sp_el1 are one register, so a packet the vCPU can hold has them equal.
     */
    @Override
    protected void makeAcceptableToKernel(TargetDescription description, byte[] g) {
        int offset = description.offsetOf(description.register("cpsr").orElseThrow().regnum());
        g[offset] = (byte) ((g[offset] & ~0x1F) | EL1H);
        int sp = description.offsetOf(description.register("sp").orElseThrow().regnum());
        int spEl1 = description.offsetOf(description.register("sp_el1").orElseThrow().regnum());
        System.arraycopy(g, sp, g, spEl1, 8);
    }

    /** cntvct_el0 is read-only: a G leaves the counter as it is. */
    @Override
    protected boolean keptVerbatim(RegisterDescriptor register) {
        return !register.name().equals("cntvct_el0");
    }

    /** elr_el1 and vbar_el1 are code addresses too; the program counter is pc. */
    @Override
    protected String programCounterName() {
        return "pc";
    }

    private static final TargetDescription D = Aarch64Registers.targetDescription();
    private final RegisterAccess access = new Aarch64ArchitectureProvider().registerAccess().orElseThrow();

    private static List<String> names(Feature f) {
        return f.registers().stream().map(RegisterDescriptor::name).collect(Collectors.toList());
    }

    private static List<String> numbered(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + i).collect(Collectors.toList());
    }

    private static int offset(String register) {
        return D.offsetOf(D.register(register).orElseThrow().regnum());
    }

    private static long readLong(byte[] g, int offset, int bytes) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(g, offset, bytes);
        return b.getLong(0);
    }

    private static void writeLong(byte[] g, int offset, long value, int bytes) {
        for (int i = 0; i < bytes; i++) {
            g[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    // ---------------------------------------------------------------- the table

    @Test
    void identifiesAsAarch64() {
        ArchitectureProvider p = provider();
        assertEquals("aarch64", p.id());
        assertEquals(183, p.elfMachine());
        assertEquals("aarch64", D.architecture());
        assertNull(D.osabi(), "bare metal: no <osabi>");
        assertEquals(List.of("org.gnu.gdb.aarch64.core", "org.gnu.gdb.aarch64.fpu", "org.gnu.gdb.aarch64.sys"),
                D.features().stream().map(Feature::name).collect(Collectors.toList()));
    }

    @Test
    void registersAreGdb13sCoreAndFpu() {
        List<String> core = Stream.concat(numbered("x", 31).stream(), Stream.of("sp", "pc", "cpsr")).collect(Collectors.toList());
        List<String> fpu = Stream.concat(numbered("v", 32).stream(), Stream.of("fpsr", "fpcr")).collect(Collectors.toList());
        assertEquals(core, names(D.features().get(0)));
        assertEquals(fpu, names(D.features().get(1)));
        // aarch64-fpu.xml numbers v0 34, right after cpsr.
        assertEquals(List.of(31, 32, 33, 34, 66, 67), Stream.of("sp", "pc", "cpsr", "v0", "fpsr", "fpcr")
                .map(n -> D.register(n).orElseThrow().regnum()).collect(Collectors.toList()));
        assertEquals("data_ptr", D.register("sp").orElseThrow().type());
        assertEquals("code_ptr", D.register("pc").orElseThrow().type());
        assertEquals("int", D.register("x30").orElseThrow().type(), "aarch64-core.xml gives x0..x30 no type: GDB's default int");
        assertEquals(32, D.register("cpsr").orElseThrow().bitSize());
        assertEquals("aarch64v", D.register("v31").orElseThrow().type());
        assertEquals(128, D.register("v31").orElseThrow().bitSize());
        // 31 x + sp + pc of 8 bytes, cpsr 4, 32 v of 16, fpsr and fpcr 4: the 788 bytes gdb-multiarch
        // 13 lays out for its own aarch64 description (fpcr at 784 in 'maint print registers').
        assertEquals(33 * 8 + 4 + 32 * 16 + 2 * 4, offset("fpcr") + 4, "core and fpu end where the system feature starts");
        assertEquals(784, offset("fpcr"));
    }

    @Test
    void cpsrFlagsAreGdb13s() {
        assertEquals(List.of("SP@0-0", "EL@2-3", "nRW@4-4", "F@6-6", "I@7-7", "A@8-8", "D@9-9", "BTYPE@10-11", "SSBS@12-12",
                "IL@20-20", "SS@21-21", "PAN@22-22", "UAO@23-23", "DIT@24-24", "TCO@25-25", "V@28-28", "C@29-29", "Z@30-30", "N@31-31"),
                fields(Aarch64Registers.CPSR_FLAGS));
    }

    @Test
    void fpsrAndFpcrFlagsAreGdb13s() {
        assertEquals(List.of("IOC@0-0", "DZC@1-1", "OFC@2-2", "UFC@3-3", "IXC@4-4", "IDC@7-7", "QC@27-27", "V@28-28", "C@29-29",
                "Z@30-30", "N@31-31"), fields(Aarch64Registers.FPSR_FLAGS));
        assertEquals(List.of("FIZ@0-0", "AH@1-1", "NEP@2-2", "IOE@8-8", "DZE@9-9", "OFE@10-10", "UFE@11-11", "IXE@12-12",
                "EBF@13-13", "IDE@15-15", "Len@16-18", "FZ16@19-19", "Stride@20-21", "RMode@22-23", "FZ@24-24", "DN@25-25",
                "AHP@26-26"), fields(Aarch64Registers.FPCR_FLAGS));
    }

    @Test
    void vectorUnionIsGdbsAarch64v() {
        TypeDefinition.Union v = (TypeDefinition.Union) Aarch64Registers.FPU_VECTOR_TYPES.stream()
                .filter(t -> t.id().equals("aarch64v")).findFirst().orElseThrow();
        assertEquals(List.of("d:vnd", "s:vns", "h:vnh", "b:vnb", "q:vnq"),
                v.fields().stream().map(f -> f.name() + ":" + f.type()).collect(Collectors.toList()));
        TypeDefinition.Union vnh = (TypeDefinition.Union) Aarch64Registers.FPU_VECTOR_TYPES.stream()
                .filter(t -> t.id().equals("vnh")).findFirst().orElseThrow();
        assertEquals(List.of("bf:v8bf16", "f:v8f", "u:v8u", "s:v8i"),
                vnh.fields().stream().map(f -> f.name() + ":" + f.type()).collect(Collectors.toList()));
    }

    private static List<String> fields(TypeDefinition.Flags flags) {
        return flags.fields().stream().map(b -> b.name() + "@" + b.start() + "-" + b.end()).collect(Collectors.toList());
    }

    // ---------------------------------------------------------------- BRK #0

    @Test
    void brk0IsTheBreakpointForKindFour() {
        byte[] brk = provider().softwareBreakpoint().instruction(4);
        assertArrayEquals(new byte[] {0x00, 0x00, 0x20, (byte) 0xD4}, brk);
        // Read as the little-endian A64 instruction word: BRK #imm16 is 0xD4200000 | imm16 << 5.
        assertEquals(0xD4200000, ByteBuffer.wrap(brk).order(ByteOrder.LITTLE_ENDIAN).getInt());
        assertNull(provider().softwareBreakpoint().instruction(1));
        assertNull(provider().softwareBreakpoint().instruction(2), "kind 2 is Thumb, not A64");
    }

    // ---------------------------------------------------------------- ONE_REG ids

    /**
     * KVM_REG_ARM64 | KVM_REG_SIZE_Uxx | KVM_REG_ARM_CORE | offsetof(struct kvm_regs, member) / 4
     * (arch/arm64/include/uapi/asm/kvm.h), with the offsets of struct kvm_regs: regs.regs[31] at 0,
     * regs.sp 248, regs.pc 256, regs.pstate 264, sp_el1 272, and fp_regs (16-byte aligned for its
     * __uint128_t vregs) at 336, so fpsr at 336 + 32 * 16 = 848, fpcr at 852.
     */
    @Test
    void oneRegIdsFollowTheKernelHeaderFormula() {
        long arm64 = 0x6000000000000000L, u32 = 0x0020000000000000L, u64 = 0x0030000000000000L, u128 = 0x0040000000000000L;
        long core = 0x0010L << 16;
        assertEquals(arm64 | u64 | core | (0 / 4), KvmCoreRegs.x(0));
        assertEquals(0x6030000000100000L, KvmCoreRegs.x(0));
        assertEquals(0x603000000010003cL, KvmCoreRegs.x(30));
        assertEquals(arm64 | u64 | core | (248 / 4), KvmCoreRegs.SP_EL0);
        assertEquals(0x603000000010003eL, KvmCoreRegs.SP_EL0);
        assertEquals(arm64 | u64 | core | (256 / 4), KvmCoreRegs.PC);
        assertEquals(0x6030000000100040L, KvmCoreRegs.PC);
        assertEquals(0x6030000000100042L, KvmCoreRegs.PSTATE);
        assertEquals(arm64 | u64 | core | (272 / 4), KvmCoreRegs.SP_EL1);
        assertEquals(0x6030000000100044L, KvmCoreRegs.SP_EL1);
        assertEquals(arm64 | u128 | core | (336 / 4), KvmCoreRegs.v(0));
        assertEquals(0x6040000000100054L, KvmCoreRegs.v(0));
        assertEquals(0x60400000001000d0L, KvmCoreRegs.v(31));
        assertEquals(arm64 | u32 | core | (848 / 4), KvmCoreRegs.FPSR);
        assertEquals(0x60200000001000d4L, KvmCoreRegs.FPSR);
        assertEquals(0x60200000001000d5L, KvmCoreRegs.FPCR);
        assertEquals(16, KvmCoreRegs.size(KvmCoreRegs.v(7)));
        assertEquals(4, KvmCoreRegs.size(KvmCoreRegs.FPCR));
        assertThrows(IllegalArgumentException.class, () -> KvmCoreRegs.x(31), "x31 is not a register: that encoding is sp or xzr");
    }

    // ---------------------------------------------------------------- g / G through ONE_REG

    @Test
    void readAllPlacesEachOneRegValueAtItsGdbOffset() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        vcpu.presetOneReg(KvmCoreRegs.x(5), 0x1122334455667788L);
        vcpu.presetOneReg(KvmCoreRegs.x(30), 0xFFFF000012345678L);
        vcpu.presetOneReg(KvmCoreRegs.PC, 0x40080000L);
        vcpu.presetOneReg(KvmCoreRegs.PSTATE, 0x600003c5L);
        vcpu.presetOneReg(KvmCoreRegs.FPSR, 0x08000010L);
        vcpu.presetOneReg(KvmCoreRegs.FPCR, 0x03000000L);
        byte[] v3 = new byte[16];
        for (int i = 0; i < 16; i++) {
            v3[i] = (byte) (0xA0 + i);
        }
        ByteBuffer v3Value = VcpuHandle.buffer(16).put(0, v3);
        vcpu.setOneReg(KvmCoreRegs.v(3), v3Value);

        byte[] g = access.readAll(vcpu);

        assertEquals(0x1122334455667788L, readLong(g, offset("x5"), 8));
        assertEquals(0xFFFF000012345678L, readLong(g, offset("x30"), 8));
        assertEquals(0x40080000L, readLong(g, offset("pc"), 8));
        assertEquals(0x600003c5L, readLong(g, offset("cpsr"), 4));
        assertEquals(0x08000010L, readLong(g, offset("fpsr"), 4));
        assertEquals(0x03000000L, readLong(g, offset("fpcr"), 4));
        assertArrayEquals(v3, Arrays.copyOfRange(g, offset("v3"), offset("v3") + 16));
    }

    @Test
    void writeAllSetsEveryCoreRegisterWithPstateFirst() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        byte[] g = new byte[D.gPacketSize()];
        writeLong(g, offset("cpsr"), EL1H | DAIF, 4);
        writeLong(g, offset("x0"), 0xCAFEL, 8);
        writeLong(g, offset("fpcr"), 0x00C00000L, 4);
        g[offset("v31") + 15] = 0x7F;

        access.writeAll(vcpu, g);

        List<KernelLikeVcpu.Call> sets = vcpu.calls().stream().filter(c -> c.op().equals("KVM_SET_ONE_REG")).collect(Collectors.toList());
        assertEquals(KvmCoreRegs.PSTATE, sets.get(0).requestOrId(), "PSTATE is written before anything else");
        // 31 x, sp, pc, pstate, 32 v, fpsr, fpcr, 14 writable system registers: one SET each.
        assertEquals(31 + 3 + 32 + 2 + 14, sets.size());
        assertEquals(0xCAFEL, vcpu.oneRegLong(KvmCoreRegs.x(0)));
        assertEquals(0x00C00000L, vcpu.oneRegLong(KvmCoreRegs.FPCR));
        assertEquals(0x7F, vcpu.oneReg(KvmCoreRegs.v(31)).orElseThrow()[15]);
        assertEquals(16, vcpu.oneReg(KvmCoreRegs.v(31)).orElseThrow().length, "v registers cross as 128-bit values");
        assertEquals(4, vcpu.oneReg(KvmCoreRegs.FPSR).orElseThrow().length, "fpsr crosses as a 32-bit value");
    }

    @Test
    void gdbsSpIsSpEl1InEl1hAndSpEl0Otherwise() {
        for (long mode : new long[] {EL0T, EL1T, EL1H}) {
            KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
            vcpu.presetOneReg(KvmCoreRegs.SP_EL0, 0xAAAA0L);
            vcpu.presetOneReg(KvmCoreRegs.SP_EL1, 0xBBBB0L);
            vcpu.presetOneReg(KvmCoreRegs.PSTATE, mode | DAIF);
            long expected = mode == EL1H ? 0xBBBB0L : 0xAAAA0L;
            assertEquals(expected, readLong(access.readAll(vcpu), offset("sp"), 8), "sp read in mode " + mode);

            byte[] g = access.readAll(vcpu);
            writeLong(g, offset("sp"), 0xCCCC0L, 8);
            access.writeAll(vcpu, g);
            assertEquals(mode == EL1H ? 0xAAAA0L : 0xCCCC0L, vcpu.oneRegLong(KvmCoreRegs.SP_EL0), "SP_EL0 after G in mode " + mode);
            assertEquals(mode == EL1H ? 0xCCCC0L : 0xBBBB0L, vcpu.oneRegLong(KvmCoreRegs.SP_EL1), "SP_EL1 after G in mode " + mode);
        }
    }

    @Test
    void theCpsrInAGPacketDecidesWhichSpItWrites() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        vcpu.presetOneReg(KvmCoreRegs.PSTATE, EL0T);
        byte[] g = access.readAll(vcpu);
        writeLong(g, offset("cpsr"), EL1H | DAIF, 4);
        writeLong(g, offset("sp"), 0x8000L, 8);
        access.writeAll(vcpu, g);
        assertEquals(0x8000L, vcpu.oneRegLong(KvmCoreRegs.SP_EL1));
        assertEquals(0L, vcpu.oneRegLong(KvmCoreRegs.SP_EL0));
    }

    /** {@code set $cpsr} ({@code P}) from EL1h to EL0t: PSTATE alone changes; both stack pointers keep their values. */
    @Test
    void pOnCpsrWritesOnlyPstate() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        vcpu.presetOneReg(KvmCoreRegs.SP_EL0, 0xAAAA0L);
        vcpu.presetOneReg(KvmCoreRegs.SP_EL1, 0xBBBB0L);
        vcpu.presetOneReg(KvmCoreRegs.PSTATE, (1L << 32) | EL1H);
        byte[] cpsr = new byte[4];
        writeLong(cpsr, 0, EL0T, 4);
        access.writeRegister(vcpu, D, D.register("cpsr").orElseThrow().regnum(), cpsr);
        List<KernelLikeVcpu.Call> sets = vcpu.calls().stream().filter(c -> c.op().equals("KVM_SET_ONE_REG")).collect(Collectors.toList());
        assertEquals(1, sets.size(), "one SET_ONE_REG: " + sets);
        assertEquals(KvmCoreRegs.PSTATE, sets.get(0).requestOrId());
        assertEquals((1L << 32) | EL0T, vcpu.oneRegLong(KvmCoreRegs.PSTATE));
        assertEquals(0xAAAA0L, vcpu.oneRegLong(KvmCoreRegs.SP_EL0));
        assertEquals(0xBBBB0L, vcpu.oneRegLong(KvmCoreRegs.SP_EL1));
    }

    /** {@code set $sp} ({@code P}) writes the stack pointer the current PSTATE selects, and only that. */
    @Test
    void pOnSpWritesTheStackPointerOfTheCurrentMode() {
        for (long mode : new long[] {EL0T, EL1T, EL1H}) {
            KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
            vcpu.presetOneReg(KvmCoreRegs.SP_EL0, 0xAAAA0L);
            vcpu.presetOneReg(KvmCoreRegs.SP_EL1, 0xBBBB0L);
            vcpu.presetOneReg(KvmCoreRegs.PSTATE, mode);
            byte[] sp = new byte[8];
            writeLong(sp, 0, 0xCCCC0L, 8);
            access.writeRegister(vcpu, D, D.register("sp").orElseThrow().regnum(), sp);
            assertEquals(mode == EL1H ? 0xAAAA0L : 0xCCCC0L, vcpu.oneRegLong(KvmCoreRegs.SP_EL0), "SP_EL0 after P in mode " + mode);
            assertEquals(mode == EL1H ? 0xCCCC0L : 0xBBBB0L, vcpu.oneRegLong(KvmCoreRegs.SP_EL1), "SP_EL1 after P in mode " + mode);
            assertEquals(1, vcpu.calls().stream().filter(c -> c.op().equals("KVM_SET_ONE_REG")).count(), "one SET_ONE_REG");
        }
    }

    @Test
    void cpsrWriteKeepsTheUpper32BitsOfPstate() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        vcpu.presetOneReg(KvmCoreRegs.PSTATE, (1L << 32) | EL1H);
        byte[] g = access.readAll(vcpu);
        writeLong(g, offset("cpsr"), 0x600003c5L, 4);
        access.writeAll(vcpu, g);
        assertEquals((1L << 32) | 0x600003c5L, vcpu.oneRegLong(KvmCoreRegs.PSTATE));
    }

    @Test
    void programCounterIsThePcCoreRegister() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        vcpu.presetOneReg(KvmCoreRegs.PC, 0x40001000L);
        assertEquals(0x40001000L, access.programCounter(vcpu));
        access.setProgramCounter(vcpu, 0x40002004L);
        assertEquals(0x40002004L, vcpu.oneRegLong(KvmCoreRegs.PC));
    }

    @Test
    void aGPacketOfTheWrongSizeIsRefusedBeforeAnyWrite() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        assertThrows(IllegalArgumentException.class, () -> access.writeAll(vcpu, new byte[D.gPacketSize() - 1]));
        assertEquals(List.of(), vcpu.calls());
    }

    // ---------------------------------------------------------------- system registers

    @Test
    void systemFeatureFollowsTheFpuWithEveryEl1RegisterAKernelDebuggerNeeds() {
        Feature sys = D.features().get(2);
        assertEquals(List.of("sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "vbar_el1", "esr_el1", "far_el1",
                "elr_el1", "spsr_el1", "sp_el0", "sp_el1", "tpidr_el1", "contextidr_el1", "cntvct_el0"), names(sys));
        assertEquals(68, D.register("sctlr_el1").orElseThrow().regnum(), "right after fpcr (67)");
        assertEquals(788, offset("sctlr_el1"), "after the 788 bytes of core and fpu");
        assertEquals(788 + 15 * 8, D.gPacketSize());
        for (RegisterDescriptor r : sys.registers()) {
            assertEquals(64, r.bitSize(), r.name());
            assertEquals("system", r.group(), r.name() + " is listed by 'info registers system'");
        }
        assertEquals("code_ptr", D.register("elr_el1").orElseThrow().type());
        assertEquals("data_ptr", D.register("sp_el1").orElseThrow().type());
    }

    /** Architectural encodings, as arch/arm64/include/asm/sysreg.h spells them: sys_reg(op0, op1, CRn, CRm, op2). */
    @Test
    void systemRegisterEncodingsAreTheArchitectures() {
        assertEquals(new KvmSysRegs.Encoding(3, 0, 1, 0, 0), KvmSysRegs.SCTLR_EL1);
        assertEquals(new KvmSysRegs.Encoding(3, 0, 2, 0, 2), KvmSysRegs.TCR_EL1);
        assertEquals(new KvmSysRegs.Encoding(3, 0, 10, 2, 0), KvmSysRegs.MAIR_EL1);
        assertEquals(new KvmSysRegs.Encoding(3, 0, 13, 0, 4), KvmSysRegs.TPIDR_EL1);
        // SCTLR_EL1: 0x6030000000130000 | 3 << 14 | 1 << 7.
        assertEquals(0x603000000013c080L, KvmSysRegs.id(KvmSysRegs.SCTLR_EL1));
        assertThrows(IllegalArgumentException.class, () -> KvmSysRegs.id(new KvmSysRegs.Encoding(3, 8, 0, 0, 0)), "op1 has 3 bits");
    }

    @Test
    void systemRegistersAreReadFromTheirOneRegIds() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        vcpu.presetOneReg(KvmCoreRegs.PSTATE, EL1H | DAIF);
        vcpu.presetOneReg(KvmSysRegs.id(KvmSysRegs.TTBR1_EL1), 0x0000_4008_1000_0000L);
        vcpu.presetOneReg(KvmSysRegs.id(KvmSysRegs.VBAR_EL1), 0xFFFF_8000_1001_0800L);
        vcpu.presetOneReg(KvmCoreRegs.ELR_EL1, 0xFFFF_8000_1000_1234L);
        vcpu.presetOneReg(KvmCoreRegs.SPSR_EL1, 0x3C5L);
        vcpu.presetOneReg(KvmCoreRegs.SP_EL0, 0x7FFF_F000L);
        vcpu.presetOneReg(KvmCoreRegs.SP_EL1, 0xFFFF_8000_0200_0000L);
        vcpu.presetOneReg(KvmSysRegs.id(KvmSysRegs.KVM_REG_ARM_TIMER_CNT), 123_456_789L);

        byte[] g = access.readAll(vcpu);

        assertEquals(0x0000_4008_1000_0000L, readLong(g, offset("ttbr1_el1"), 8));
        assertEquals(0xFFFF_8000_1001_0800L, readLong(g, offset("vbar_el1"), 8));
        assertEquals(0xFFFF_8000_1000_1234L, readLong(g, offset("elr_el1"), 8));
        assertEquals(0x3C5L, readLong(g, offset("spsr_el1"), 8));
        assertEquals(0x7FFF_F000L, readLong(g, offset("sp_el0"), 8));
        assertEquals(0xFFFF_8000_0200_0000L, readLong(g, offset("sp_el1"), 8));
        assertEquals(0xFFFF_8000_0200_0000L, readLong(g, offset("sp"), 8), "in EL1h gdb's sp is SP_EL1");
        assertEquals(123_456_789L, readLong(g, offset("cntvct_el0"), 8));
        assertEquals(0L, readLong(g, offset("sctlr_el1"), 8));

        byte[] p = access.readRegister(vcpu, D, D.register("elr_el1").orElseThrow().regnum());
        assertEquals(0xFFFF_8000_1000_1234L, readLong(p, 0, 8), "p elr_el1");
    }

    @Test
    void aGPacketWritesTheWritableSystemRegistersAndLeavesTheCounter() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        vcpu.presetOneReg(KvmSysRegs.id(KvmSysRegs.KVM_REG_ARM_TIMER_CNT), 1000L);
        byte[] g = new byte[D.gPacketSize()];
        writeLong(g, offset("cpsr"), EL1H | DAIF, 4);
        writeLong(g, offset("sctlr_el1"), 0x30D0_1805L, 8);
        writeLong(g, offset("tcr_el1"), 0x0000_0032_B510_3510L, 8);
        writeLong(g, offset("esr_el1"), 0x9600_0045L, 8);
        writeLong(g, offset("spsr_el1"), 0x3C5L, 8);
        writeLong(g, offset("contextidr_el1"), 42L, 8);
        writeLong(g, offset("sp_el0"), 0x1000L, 8);
        writeLong(g, offset("cntvct_el0"), 5L, 8);

        access.writeAll(vcpu, g);

        assertEquals(0x30D0_1805L, vcpu.oneRegLong(KvmSysRegs.id(KvmSysRegs.SCTLR_EL1)));
        assertEquals(0x0000_0032_B510_3510L, vcpu.oneRegLong(KvmSysRegs.id(KvmSysRegs.TCR_EL1)));
        assertEquals(0x9600_0045L, vcpu.oneRegLong(KvmSysRegs.id(KvmSysRegs.ESR_EL1)));
        assertEquals(0x3C5L, vcpu.oneRegLong(KvmCoreRegs.SPSR_EL1));
        assertEquals(42L, vcpu.oneRegLong(KvmSysRegs.id(KvmSysRegs.CONTEXTIDR_EL1)));
        assertEquals(0x1000L, vcpu.oneRegLong(KvmCoreRegs.SP_EL0));
        assertEquals(1000L, vcpu.oneRegLong(KvmSysRegs.id(KvmSysRegs.KVM_REG_ARM_TIMER_CNT)), "the counter is not written");
        assertEquals(List.of(), vcpu.calls().stream()
                .filter(c -> c.op().equals("KVM_SET_ONE_REG") && c.requestOrId() == KvmSysRegs.id(KvmSysRegs.KVM_REG_ARM_TIMER_CNT))
                .collect(Collectors.toList()), "no SET_ONE_REG of KVM_REG_ARM_TIMER_CNT");
    }

    @Test
    void writingTheCounterWithPIsAnError() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        vcpu.presetOneReg(KvmSysRegs.id(KvmSysRegs.KVM_REG_ARM_TIMER_CNT), 1000L);
        int regnum = D.register("cntvct_el0").orElseThrow().regnum();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> access.writeRegister(vcpu, D, regnum, new byte[8]));
        assertEquals("cntvct_el0 is read-only", e.getMessage());
        assertEquals(1000L, vcpu.oneRegLong(KvmSysRegs.id(KvmSysRegs.KVM_REG_ARM_TIMER_CNT)));
        assertEquals(List.of(), vcpu.calls().stream().filter(c -> c.op().equals("KVM_SET_ONE_REG")).collect(Collectors.toList()));
    }

    @Test
    void pOnASystemRegisterIsOneSetOneReg() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        byte[] value = new byte[8];
        writeLong(value, 0, 0xFFFF_8000_1100_0000L, 8);
        access.writeRegister(vcpu, D, D.register("far_el1").orElseThrow().regnum(), value);
        assertEquals(1, vcpu.calls().size(), "one ioctl: " + vcpu.calls());
        assertEquals("KVM_SET_ONE_REG", vcpu.calls().get(0).op());
        assertEquals(KvmSysRegs.id(KvmSysRegs.FAR_EL1), vcpu.calls().get(0).requestOrId());
        assertArrayEquals(value, vcpu.calls().get(0).bytes());
    }

    @Test
    void gdbsSpWinsOverTheSpElxSlotItAliasesInAGPacket() {
        KernelLikeVcpu vcpu = new KernelLikeVcpu(0);
        byte[] g = new byte[D.gPacketSize()];
        writeLong(g, offset("cpsr"), EL1H | DAIF, 4);
        writeLong(g, offset("sp"), 0x8000L, 8);
        writeLong(g, offset("sp_el1"), 0x9000L, 8);
        access.writeAll(vcpu, g);
        assertEquals(0x8000L, vcpu.oneRegLong(KvmCoreRegs.SP_EL1));
    }
}

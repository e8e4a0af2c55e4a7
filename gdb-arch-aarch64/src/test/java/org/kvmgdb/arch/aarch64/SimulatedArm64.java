package org.kvmgdb.arch.aarch64;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.kvmgdb.api.hypervisor.Ioctls;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.core.testing.SimulatedKvm;

/**
 * What an arm64 host's KVM adds to {@link SimulatedKvm}: the vCPU's register file behind
 * {@code KVM_GET/SET_ONE_REG}, {@code KVM_SET_GUEST_DEBUG}, the guest-debug capabilities, and a
 * tiny CPU for {@code KVM_RUN} that knows just enough A64 to hit what a debugger sets:
 * <ul>
 * <li>{@code BRK #imm} with KVM_GUESTDBG_USE_SW_BP: a debug exit of class BRK64 at the {@code BRK};</li>
 * <li>an enabled DBGBVR/DBGBCR pair (address match, A64 BAS, privilege matching PSTATE.EL) at pc:
 *     a hardware breakpoint exit before the instruction;</li>
 * <li>{@code STR Xt, [Xn, #imm]} (64-bit, unsigned offset): stores {@code Xt} at the address, or,
 *     when an enabled DBGWVR/DBGWCR pair (store LSC, BAS bytes, privilege) covers one of its bytes,
 *     a watchpoint exit before the store with {@code far} the address;</li>
 * <li>{@code B .}: the guest loops until a signal ends KVM_RUN (EINTR);</li>
 * <li>anything else: on to the next word;</li>
 * <li>KVM_GUESTDBG_SINGLESTEP: one instruction, then a software-step exit with pc after it.</li>
 * </ul>
 * Exits are what arm64 KVM reports (arch/arm64/kvm/handle_exit.c kvm_handle_guest_debug):
 * {@code KVM_EXIT_DEBUG}, {@code debug.arch.hsr} the ESR with the "lower EL" class the trap to EL2
 * carries, {@code far} for a watchpoint. Virtual addresses become physical through the test's own
 * map of the tables it built ({@code translate}), never through the plugin's walker.
 *
 * <p>Every {@code KVM_RUN} is recorded ({@link Run}): pc, PSTATE and debug control at entry, the
 * 32-bit words at the {@link #probe probed} guest-physical addresses, and how it ended.
 */
final class SimulatedArm64 implements SimulatedKvm.Machine {
    /** include/uapi/linux/kvm.h: {@code _IOW(KVMIO, 0x9b, struct kvm_guest_debug)}, 520 bytes on arm64. */
    static final long KVM_SET_GUEST_DEBUG = Ioctls.iow(Ioctls.KVMIO, 0x9b, 520);
    /** include/uapi/linux/kvm.h. */
    static final int KVM_CAP_GUEST_DEBUG_HW_BPS = 119, KVM_CAP_GUEST_DEBUG_HW_WPS = 120;
    static final int KVM_EXIT_DEBUG = 4;
    /** kvm_guest_debug.control bits (include/uapi/linux/kvm.h, arch/arm64/include/uapi/asm/kvm.h). */
    static final int GUESTDBG_ENABLE = 1, GUESTDBG_SINGLESTEP = 2, GUESTDBG_USE_SW_BP = 1 << 16, GUESTDBG_USE_HW = 1 << 17;
    /** The register counts this host reports (a Cortex-A72 has 6 and 4). */
    static final int BREAKPOINT_REGISTERS = 6, WATCHPOINT_REGISTERS = 4;

    // ESR_ELx (arch/arm64/include/asm/esr.h): EC in bits 31:26, IL bit 25, WnR bit 6 of a watchpoint ISS.
    static final int EC_BREAKPT_LOW = 0x30, EC_SOFTSTP_LOW = 0x32, EC_WATCHPT_LOW = 0x34, EC_BRK64 = 0x3C;
    static final int ESR_IL = 1 << 25, ESR_WNR = 1 << 6;
    /** ISS.ISV of a software step: the EX bit is valid. */
    static final int ESR_SOFTSTP_ISV = 1 << 24;
    /** DFSC/IFSC "debug exception" (0b100010). */
    static final int ESR_FSC_DEBUG = 0x22;

    // A64 encodings (Arm ARM C6).
    static final int NOP = 0xD503201F;
    static final int B_SELF = 0x14000000;
    static final int BRK_MASK = 0xFFE0001F, BRK = 0xD4200000;
    static final int STR_X_UIMM_MASK = 0xFFC00000, STR_X_UIMM = 0xF9000000;

    /** PSTATE.M[3:0] values KVM accepts for an AArch64 vCPU without nested virtualisation (arch/arm64/kvm/guest.c). */
    static final long PSR_MODE_EL0T = 0x0, PSR_MODE_EL1T = 0x4, PSR_MODE_EL1H = 0x5;

    /** One KVM_RUN. */
    record Run(long pc, long pstate, int control, Map<Long, Integer> probed, String exit) {
    }

    /** One vCPU's architectural state. */
    static final class Cpu {
        @Override
        public String toString() {
            return runs.toString();
        }

        final Map<Long, byte[]> registers = new LinkedHashMap<>();
        /** The last KVM_SET_GUEST_DEBUG argument. */
        final ByteBuffer guestDebug = ByteBuffer.allocate(Aarch64GuestDebug.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        final List<Run> runs = new CopyOnWriteArrayList<>();

        long get(long id) {
            byte[] v = registers.get(id);
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            b.put(v, 0, Math.min(8, v.length));
            return b.getLong(0);
        }

        void set(long id, long value) {
            byte[] v = registers.get(id);
            if (v == null) {
                throw new IllegalArgumentException("no register " + Long.toHexString(id));
            }
            for (int i = 0; i < v.length; i++) {
                v[i] = i < 8 ? (byte) (value >>> (8 * i)) : 0;
            }
        }

        long x(int n) {
            return n == 31 ? 0 : get(KvmCoreRegs.x(n)); // register 31 as Xt is XZR
        }
    }

    private final LongUnaryOperator translate;
    private final Map<Integer, Cpu> cpus = new ConcurrentHashMap<>();
    private final List<Long> probes = new CopyOnWriteArrayList<>();
    private final List<Long> presetIds = new ArrayList<>();
    /** Runs that reached {@code b .} and wait for a kick, as they get there. */
    private final BlockingQueue<Run> parked = new LinkedBlockingQueue<>();

    /** @param translate virtual to guest-physical address as the guest's tables map it (the test's own knowledge), -1 when unmapped */
    SimulatedArm64(LongUnaryOperator translate) {
        this.translate = translate;
        for (int n = 0; n <= 30; n++) {
            presetIds.add(KvmCoreRegs.x(n));
        }
        presetIds.addAll(List.of(KvmCoreRegs.SP_EL0, KvmCoreRegs.PC, KvmCoreRegs.PSTATE, KvmCoreRegs.SP_EL1, KvmCoreRegs.ELR_EL1));
        for (int n = 0; n < 5; n++) { // spsr[KVM_NR_SPSR]
            presetIds.add(KvmCoreRegs.core(KvmCoreRegs.KVM_REG_SIZE_U64, KvmCoreRegs.OFFSET_SPSR + 8 * n));
        }
        for (int n = 0; n <= 31; n++) {
            presetIds.add(KvmCoreRegs.v(n));
        }
        presetIds.addAll(List.of(KvmCoreRegs.FPSR, KvmCoreRegs.FPCR));
        for (KvmSysRegs.Encoding e : List.of(KvmSysRegs.SCTLR_EL1, KvmSysRegs.TTBR0_EL1, KvmSysRegs.TTBR1_EL1, KvmSysRegs.TCR_EL1,
                KvmSysRegs.ESR_EL1, KvmSysRegs.FAR_EL1, KvmSysRegs.MAIR_EL1, KvmSysRegs.VBAR_EL1, KvmSysRegs.CONTEXTIDR_EL1,
                KvmSysRegs.TPIDR_EL1, KvmSysRegs.KVM_REG_ARM_TIMER_CNT)) {
            presetIds.add(KvmSysRegs.id(e));
        }
    }

    /** The vCPU's state (created by KVM_CREATE_VCPU). */
    Cpu cpu(int index) {
        Cpu c = cpus.get(index);
        if (c == null) {
            throw new IllegalStateException("no vCPU " + index);
        }
        return c;
    }

    /** Records the word at guest-physical {@code address} at the start of every KVM_RUN from now on. */
    void probe(long address) {
        probes.add(address);
    }

    /**
     * Waits until a vCPU's KVM_RUN reaches {@code b .} (after a detach the guest runs freely into
     * it); a bound against a hang only.
     */
    Run awaitParked() throws InterruptedException {
        Run run = parked.poll(60, TimeUnit.SECONDS);
        if (run == null) {
            throw new AssertionError("no vCPU reached b . ; runs: " + cpus);
        }
        return run;
    }

    // ---- SimulatedKvm.Machine ----

    @Override
    public int checkExtension(int capability) {
        if (capability == KVM_CAP_GUEST_DEBUG_HW_BPS) {
            return BREAKPOINT_REGISTERS;
        }
        return capability == KVM_CAP_GUEST_DEBUG_HW_WPS ? WATCHPOINT_REGISTERS : 0;
    }

    @Override
    public void created(SimulatedKvm.Vcpu vcpu) {
        Cpu c = new Cpu();
        for (long id : presetIds) {
            c.registers.put(id, new byte[KvmCoreRegs.size(id)]);
        }
        // After KVM_ARM_VCPU_INIT the vCPU is in EL1h with DAIF masked (arch/arm64/kvm/reset.c).
        c.set(KvmCoreRegs.PSTATE, 0x3c5);
        cpus.put(vcpu.index(), c);
    }

    @Override
    public int getOneReg(SimulatedKvm.Vcpu vcpu, long id, ByteBuffer value) {
        byte[] v = cpu(vcpu.index()).registers.get(id);
        if (v == null) {
            return -SimulatedKvm.ENOENT;
        }
        value.put(0, v);
        return 0;
    }

    @Override
    public int setOneReg(SimulatedKvm.Vcpu vcpu, long id, ByteBuffer value) {
        Cpu c = cpu(vcpu.index());
        byte[] v = c.registers.get(id);
        if (v == null) {
            return -SimulatedKvm.ENOENT;
        }
        if (id == KvmCoreRegs.PSTATE) {
            // arch/arm64/kvm/guest.c set_core_reg: the mode must be one this vCPU can be in.
            long mode = value.getLong(0) & 0x1F;
            if (mode != PSR_MODE_EL0T && mode != PSR_MODE_EL1T && mode != PSR_MODE_EL1H) {
                return -SimulatedKvm.EINVAL;
            }
        }
        value.get(0, v);
        return 0;
    }

    @Override
    public int vcpuIoctl(SimulatedKvm.Vcpu vcpu, long request, ByteBuffer arg) {
        if (request == KVM_SET_GUEST_DEBUG) {
            Cpu c = cpu(vcpu.index());
            synchronized (c) {
                for (int i = 0; i < Aarch64GuestDebug.SIZE; i++) {
                    c.guestDebug.put(i, arg.get(i));
                }
            }
            return 0;
        }
        return -SimulatedKvm.ENOTTY;
    }

    @Override
    public int run(SimulatedKvm.Vcpu vcpu) {
        Cpu c = cpu(vcpu.index());
        PhysicalMemory ram = vcpu.memory();
        int control = c.guestDebug.getInt(Aarch64GuestDebug.OFFSET_CONTROL);
        boolean enabled = (control & GUESTDBG_ENABLE) != 0;
        boolean step = enabled && (control & GUESTDBG_SINGLESTEP) != 0;
        boolean softwareBreakpoints = enabled && (control & GUESTDBG_USE_SW_BP) != 0;
        boolean hardware = enabled && (control & GUESTDBG_USE_HW) != 0;
        long pstate = c.get(KvmCoreRegs.PSTATE);
        long pc = c.get(KvmCoreRegs.PC);
        Map<Long, Integer> probed = new HashMap<>();
        for (long p : probes) {
            probed.put(p, word(ram, p));
        }
        long entryPc = pc;
        while (true) {
            if (hardware && breakpointAt(c, pc, pstate)) {
                return debugExit(vcpu, c, new Run(entryPc, pstate, control, probed, "breakpoint at 0x" + Long.toHexString(pc)),
                        EC_BREAKPT_LOW, ESR_FSC_DEBUG, 0);
            }
            int insn = fetch(ram, pc);
            if ((insn & BRK_MASK) == BRK) {
                if (!softwareBreakpoints) {
                    throw new IllegalStateException(String.format("BRK at 0x%x without KVM_GUESTDBG_USE_SW_BP: the guest's exception"
                            + " entry is not simulated", pc));
                }
                return debugExit(vcpu, c, new Run(entryPc, pstate, control, probed, "brk at 0x" + Long.toHexString(pc)),
                        EC_BRK64, (insn >>> 5) & 0xFFFF, 0);
            }
            if ((insn & STR_X_UIMM_MASK) == STR_X_UIMM) {
                int rt = insn & 31;
                int rn = (insn >>> 5) & 31;
                long base = rn == 31 ? stackPointer(c, pstate) : c.x(rn);
                long address = base + (((insn >>> 10) & 0xFFF) * 8L);
                if (hardware && watchpointCovers(c, address, 8, pstate)) {
                    return debugExit(vcpu, c, new Run(entryPc, pstate, control, probed, "watchpoint at 0x" + Long.toHexString(address)),
                            EC_WATCHPT_LOW, ESR_WNR | ESR_FSC_DEBUG, address);
                }
                long physical = translate.applyAsLong(address);
                if (physical == -1) {
                    throw new IllegalStateException(String.format("store to unmapped 0x%x at 0x%x: data aborts are not simulated", address, pc));
                }
                ram.writeLong(physical, c.x(rt));
            } else if (insn == B_SELF) {
                if (!step) {
                    Run parkedRun = new Run(entryPc, pstate, control, probed, "b . until kicked");
                    c.runs.add(parkedRun);
                    parked.add(parkedRun);
                    return vcpu.waitForKick();
                }
                // Stepped, B . ends where it began.
                return debugExit(vcpu, c, new Run(entryPc, pstate, control, probed, "step"), EC_SOFTSTP_LOW,
                        ESR_SOFTSTP_ISV | ESR_FSC_DEBUG, 0);
            }
            pc += 4;
            c.set(KvmCoreRegs.PC, pc);
            if (step) {
                return debugExit(vcpu, c, new Run(entryPc, pstate, control, probed, "step"), EC_SOFTSTP_LOW,
                        ESR_SOFTSTP_ISV | ESR_FSC_DEBUG, 0);
            }
        }
    }

    private static long stackPointer(Cpu c, long pstate) {
        return (pstate & 1) != 0 && (pstate & 0xC) != 0 ? c.get(KvmCoreRegs.SP_EL1) : c.get(KvmCoreRegs.SP_EL0);
    }

    private int fetch(PhysicalMemory ram, long pc) {
        long physical = translate.applyAsLong(pc);
        if (physical == -1) {
            throw new IllegalStateException(String.format("instruction fetch from unmapped 0x%x: aborts are not simulated", pc));
        }
        return word(ram, physical);
    }

    private static int word(PhysicalMemory ram, long physical) {
        byte[] b = new byte[4];
        ram.read(physical, b, 0, 4);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static int debugExit(SimulatedKvm.Vcpu vcpu, Cpu c, Run record, int ec, int iss, long far) {
        c.runs.add(record);
        ByteBuffer run = vcpu.run();
        vcpu.exit(KVM_EXIT_DEBUG);
        // struct kvm_debug_exit_arch (arch/arm64/include/uapi/asm/kvm.h): __u32 hsr; __u32 hsr_high; __u64 far;
        run.putInt(Aarch64StopClassifier.OFFSET_DEBUG_HSR, (ec << 26) | ESR_IL | iss);
        run.putInt(Aarch64StopClassifier.OFFSET_DEBUG_HSR_HIGH, 0);
        run.putLong(Aarch64StopClassifier.OFFSET_DEBUG_FAR, far);
        return 0;
    }

    /** Whether a privilege field (BCR.PMC, WCR.PAC: bit 1 EL1, bit 2 EL0) matches the EL in PSTATE. */
    private static boolean privilegeMatches(long cr, long pstate) {
        long el = (pstate >>> 2) & 3;
        long field = (cr >>> 1) & 3;
        return el == 0 ? (field & 2) != 0 : el == 1 && (field & 1) != 0;
    }

    /** An enabled, unlinked address-match breakpoint on the whole A64 instruction at pc (Arm ARM D2.9). */
    private static boolean breakpointAt(Cpu c, long pc, long pstate) {
        synchronized (c) {
            for (int i = 0; i < BREAKPOINT_REGISTERS; i++) {
                long bcr = c.guestDebug.getLong(Aarch64GuestDebug.OFFSET_DBG_BCR + 8 * i);
                long bvr = c.guestDebug.getLong(Aarch64GuestDebug.OFFSET_DBG_BVR + 8 * i);
                boolean enabled = (bcr & 1) != 0;
                boolean unlinkedAddressMatch = ((bcr >>> 20) & 0xF) == 0;
                boolean wholeInstruction = ((bcr >>> 5) & 0xF) == 0xF;
                if (enabled && unlinkedAddressMatch && wholeInstruction && privilegeMatches(bcr, pstate) && (bvr & ~3L) == pc) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Whether a store of {@code size} bytes at {@code address} touches a byte an enabled store watchpoint selects (Arm ARM D2.10). */
    private static boolean watchpointCovers(Cpu c, long address, int size, long pstate) {
        synchronized (c) {
            for (int i = 0; i < WATCHPOINT_REGISTERS; i++) {
                long wcr = c.guestDebug.getLong(Aarch64GuestDebug.OFFSET_DBG_WCR + 8 * i);
                long wvr = c.guestDebug.getLong(Aarch64GuestDebug.OFFSET_DBG_WVR + 8 * i);
                boolean enabled = (wcr & 1) != 0;
                boolean stores = ((wcr >>> 3) & 2) != 0;
                long bas = (wcr >>> 5) & 0xFF;
                if (!enabled || !stores || !privilegeMatches(wcr, pstate)) {
                    continue;
                }
                for (long b = address; b < address + size; b++) {
                    if ((b & ~7L) == (wvr & ~7L) && ((bas >>> (b & 7)) & 1) != 0) {
                        return true;
                    }
                }
            }
            return false;
        }
    }
}

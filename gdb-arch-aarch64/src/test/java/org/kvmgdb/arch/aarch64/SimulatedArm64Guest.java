package org.kvmgdb.arch.aarch64;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.core.kvm.Kvm;
import org.kvmgdb.core.kvm.KvmTarget;
import org.kvmgdb.core.kvm.Vm;
import org.kvmgdb.core.server.GdbServer;
import org.kvmgdb.core.session.DebugSession;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.testing.BatchGdb;
import org.kvmgdb.core.testing.SimulatedKvm;
import org.kvmgdb.transport.tcp.TcpTransportProvider;

/**
 * An AArch64 guest as the product sees it on an arm64 host, with only the kernel simulated: gdb-core's
 * {@link Vm} and {@link KvmTarget} over {@link SimulatedKvm} with the {@link SimulatedArm64} CPU,
 * the real {@link Aarch64ArchitectureProvider}, a {@link GdbServer} on the real TCP transport, and
 * gdb-multiarch in batch mode as the debugger.
 *
 * <p>The guest: 2 MiB of RAM at {@link Aarch64Platform#RAM_BASE}, the MMU on with 4 KiB pages and
 * 48-bit virtual addresses. TTBR0 maps the first GiB of RAM's gigabyte identity (one level-1 block);
 * TTBR1 maps one page of kernel-style high addresses, {@link #KERNEL_VA}, onto {@link #KERNEL_PA}
 * through all four levels. The code at {@link #CODE}: {@code nop; nop; nop; str x1, [x0]; nop; b .}
 * with x0 = {@link #WATCHED_VA}, so a continue ends looping on {@code b .} unless something stops it.
 * The vCPU is in EL1h with DAIF clear, as a kernel with interrupts on.
 */
final class SimulatedArm64Guest implements AutoCloseable {
    static final long RAM = Aarch64Platform.RAM_BASE;
    static final long RAM_SIZE = 2 * 1024 * 1024;
    static final long CODE = RAM + 0x1_0000;
    static final int[] PROGRAM = {SimulatedArm64.NOP, SimulatedArm64.NOP, SimulatedArm64.NOP,
        0xF9000001 /* str x1, [x0] */, SimulatedArm64.NOP, SimulatedArm64.B_SELF};
    static final long STORE = CODE + 12;

    // Stage-1 tables (4 KiB granule): TTBR0 level 0 and 1, TTBR1 level 0 to 3.
    static final long TTBR0_L0 = RAM + 0x2_0000, TTBR0_L1 = RAM + 0x2_1000;
    static final long TTBR1_L0 = RAM + 0x2_2000, TTBR1_L1 = RAM + 0x2_3000, TTBR1_L2 = RAM + 0x2_4000, TTBR1_L3 = RAM + 0x2_5000;
    /** One 4 KiB page through TTBR1: level indexes 0, 0, 0 and 0x100. */
    static final long KERNEL_VA = 0xffff_0000_0010_0000L;
    static final long KERNEL_PA = RAM + 0x18_0000;
    static final String KERNEL_STRING = "read through TTBR1";
    static final long KERNEL_LONG_VA = KERNEL_VA + 0x100;
    static final long KERNEL_LONG = 0x0123_4567_89ab_cdefL;
    static final long WATCHED_VA = KERNEL_VA + 0x200;
    static final long WATCHED_INITIAL = 0x2a;
    static final long STORED = 0x1122_3344_5566_7788L;

    static final long SP_EL1 = RAM + 0x10_0000;
    static final long SP_EL0 = RAM + 0xf_0000;
    /** EL1h (M = 0b0101), DAIF clear. */
    static final long PSTATE_EL1H = 0x5;

    // Descriptor bits (Arm ARM D8.3): valid, table/page, AF, inner shareable.
    private static final long TABLE = 0b11, PAGE = 0b11, BLOCK = 0b01, AF = 1L << 10, SH_INNER = 3L << 8;
    /** TCR_EL1: T0SZ = T1SZ = 16 (48-bit VAs), TG0 = 0b00 and TG1 = 0b10 (4 KiB), IPS = 0b101 (48-bit PAs). */
    static final long TCR = 16L | (16L << 16) | (0b10L << 30) | (0b101L << 32);
    /** SCTLR_EL1: M, C, I. */
    static final long SCTLR = 1L | (1L << 2) | (1L << 12);

    final SimulatedArm64 machine = new SimulatedArm64(SimulatedArm64Guest::translate);
    final SimulatedKvm kernel = new SimulatedKvm(machine);
    final Kvm kvm;
    final Vm vm;
    private KvmTarget target;
    private final BlockingQueue<DebugSession.End> ends = new LinkedBlockingQueue<>();

    SimulatedArm64Guest() {
        kvm = Kvm.open(kernel);
        vm = kvm.createVm(new Vm.Config(RAM_SIZE, 1, OutputStream.nullOutputStream(), Aarch64Platform.VIRT));
        for (int i = 0; i < PROGRAM.length; i++) {
            writeWord(CODE + 4L * i, PROGRAM[i]);
        }
        writeTables();
        byte[] text = (KERNEL_STRING + "\0").getBytes(StandardCharsets.US_ASCII);
        vm.memory().write(KERNEL_PA, text, 0, text.length);
        vm.memory().writeLong(translate(KERNEL_LONG_VA), KERNEL_LONG);
        vm.memory().writeLong(translate(WATCHED_VA), WATCHED_INITIAL);

        SimulatedArm64.Cpu cpu = cpu();
        for (int n = 0; n <= 30; n++) {
            cpu.set(KvmCoreRegs.x(n), x(n));
        }
        cpu.set(KvmCoreRegs.PC, CODE);
        cpu.set(KvmCoreRegs.PSTATE, PSTATE_EL1H);
        cpu.set(KvmCoreRegs.SP_EL1, SP_EL1);
        cpu.set(KvmCoreRegs.SP_EL0, SP_EL0);
        byte[] v0 = cpu.registers.get(KvmCoreRegs.v(0));
        for (int i = 0; i < 16; i++) {
            v0[i] = (byte) i; // bytes 00 01 .. 0f: the 128-bit value 0x0f0e..0100
        }
        cpu.set(KvmSysRegs.id(KvmSysRegs.SCTLR_EL1), SCTLR);
        cpu.set(KvmSysRegs.id(KvmSysRegs.TCR_EL1), TCR);
        cpu.set(KvmSysRegs.id(KvmSysRegs.TTBR0_EL1), TTBR0_L0);
        cpu.set(KvmSysRegs.id(KvmSysRegs.TTBR1_EL1), TTBR1_L0);
        cpu.set(KvmSysRegs.id(KvmSysRegs.MAIR_EL1), 0xff);
    }

    /** The value x{@code n} starts with: x0 points at the watched long, x1 is what the store writes. */
    static long x(int n) {
        switch (n) {
            case 0:
                return WATCHED_VA;
            case 1:
                return STORED;
            default:
                return 0xa500_0000_0000_0000L | ((long) n << 32) | n;
        }
    }

    /** The guest's address space as this test built it (the simulated CPU's MMU): -1 when unmapped. */
    static long translate(long va) {
        if (va >= RAM && va < RAM + (1L << 30)) {
            return va; // TTBR0: the level-1 block over RAM's gigabyte
        }
        if (va >= KERNEL_VA && va < KERNEL_VA + 4096) {
            return KERNEL_PA + (va - KERNEL_VA); // TTBR1: one page
        }
        return -1;
    }

    private void writeTables() {
        vm.memory().writeLong(TTBR0_L0, TTBR0_L1 | TABLE);
        vm.memory().writeLong(TTBR0_L1 + 8 * ((RAM >>> 30) & 0x1FF), RAM | AF | SH_INNER | BLOCK);
        vm.memory().writeLong(TTBR1_L0 + 8 * ((KERNEL_VA >>> 39) & 0x1FF), TTBR1_L1 | TABLE);
        vm.memory().writeLong(TTBR1_L1 + 8 * ((KERNEL_VA >>> 30) & 0x1FF), TTBR1_L2 | TABLE);
        vm.memory().writeLong(TTBR1_L2 + 8 * ((KERNEL_VA >>> 21) & 0x1FF), TTBR1_L3 | TABLE);
        vm.memory().writeLong(TTBR1_L3 + 8 * ((KERNEL_VA >>> 12) & 0x1FF), KERNEL_PA | AF | SH_INNER | PAGE);
    }

    void writeWord(long physical, int word) {
        byte[] b = {(byte) word, (byte) (word >>> 8), (byte) (word >>> 16), (byte) (word >>> 24)};
        vm.memory().write(physical, b, 0, 4);
    }

    int word(long physical) {
        byte[] b = new byte[4];
        vm.memory().read(physical, b, 0, 4);
        return (b[0] & 0xFF) | (b[1] & 0xFF) << 8 | (b[2] & 0xFF) << 16 | (b[3] & 0xFF) << 24;
    }

    SimulatedArm64.Cpu cpu() {
        return machine.cpu(0);
    }

    /**
     * One gdb-multiarch session: {@code target remote} to a GdbServer on a fresh TCP listener,
     * {@code commands}, then gdb exits; returns what it printed once the session has ended.
     */
    String gdb(String... commands) throws IOException, InterruptedException {
        if (target == null) {
            target = new KvmTarget(vm, new Aarch64ArchitectureProvider());
        }
        Listener listener = new TcpTransportProvider().parse("127.0.0.1:0", TransportOptions.DEFAULTS).bind();
        GdbServer server = new GdbServer(listener, target, SessionOptions.DEFAULTS);
        server.onSessionEnd(ends::add);
        server.start();
        try {
            String out = BatchGdb.run(BatchGdb.GDB_MULTIARCH, null, listener.gdbTarget(), commands);
            // A safety net against a hang, not a timing check: the session ends when gdb hangs up.
            if (ends.poll(60, TimeUnit.SECONDS) == null) {
                throw new AssertionError("the session did not end after gdb exited:\n" + out);
            }
            return out;
        } finally {
            server.close();
        }
    }

    @Override
    public void close() {
        try {
            vm.close();
        } finally {
            if (target != null) {
                target.close();
            }
            kvm.close();
        }
    }
}

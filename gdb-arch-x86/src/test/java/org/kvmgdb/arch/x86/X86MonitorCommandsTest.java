package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.BootState.BootParameters;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.FakeVm;
import org.kvmgdb.api.hypervisor.testing.TestMemory;
import org.kvmgdb.arch.x86.kvm.KvmDebugRegs;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.arch.x86.kvm.KvmSegment;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

/** The x86 {@code monitor} commands on a vCPU in the guest ABI's boot state (KVM answered by a fake). */
class X86MonitorCommandsTest {
    private final TestMemory ram = TestMemory.sparse(128L << 20);
    private final FakeVcpu vcpu = new FakeVcpu(1, new FakeVm(ram));

    private MonitorCommand command(String name) {
        return new X86_64ArchitectureProvider().monitorCommands().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow();
    }

    /** The registers X86BootState gives every vCPU, with KVM's reset TR, LDT and APIC base. */
    private void bootState() {
        new X86BootState().prepareMemory(ram, new BootParameters(0x100000, 2, 128L << 20, 64 * 1024));
        KvmSregs s = new KvmSregs();
        s.segment(KvmSregs.CS, KvmSegment.flatCode64(0x08));
        for (int seg : new int[] {KvmSregs.DS, KvmSregs.ES, KvmSregs.FS, KvmSregs.GS, KvmSregs.SS}) {
            s.segment(seg, KvmSegment.flatData(0x10));
        }
        s.segment(KvmSregs.TR, new KvmSegment(0, 0xFFFF, 0, 0xB, true, 0, false, false, false, false, false, false));
        s.segment(KvmSregs.LDT, new KvmSegment(0, 0xFFFF, 0, 0x2, true, 0, false, false, false, false, false, true));
        s.table(KvmSregs.GDT, 0x1000, 0x17).table(KvmSregs.IDT, 0, 0xFFFF);
        s.set(KvmSregs.CR0, 0x8005_0033L).set(KvmSregs.CR3, 0x2000).set(KvmSregs.CR4, 0x620).set(KvmSregs.EFER, 0x500)
                .set(KvmSregs.APIC_BASE, 0xFEE0_0900L);
        vcpu.kernelState(KvmIoctls.KVM_GET_SREGS, s.toBytes());
        KvmDebugRegs d = new KvmDebugRegs().set(KvmDebugRegs.DB, 0x100010).set(KvmDebugRegs.DR6, 0xFFFF_4FF1L)
                .set(KvmDebugRegs.DR7, 0x0001_0402L | (3L << 18)); // G0, write, 4 bytes
        vcpu.kernelState(KvmIoctls.KVM_GET_DEBUGREGS, d.toBytes());
    }

    private static void assertLine(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(), "/" + regex + "/ not in:\n" + text);
    }

    @Test
    void infoRegsDecodesControlSegmentAndDebugRegisters() {
        bootState();
        String out = command("info regs").run(vcpu, List.of());
        assertLine(out, "^vCPU 1:$");
        assertLine(out, "^cr0 +0x80050033 +PE MP ET NE WP AM PG$");
        assertLine(out, "^cr3 +0x2000 +page tables at 0x2000$");
        assertLine(out, "^cr4 +0x620 +PAE OSFXSR OSXMMEXCPT$");
        assertLine(out, "^efer +0x500 +LME LMA$");
        assertLine(out, "^cs +0x0008  base 0x0000000000000000  limit 0xffffffff  type 0xb code execute/read accessed  dpl 0  P L G$");
        assertLine(out, "^ss +0x0010  base 0x0000000000000000  limit 0xffffffff  type 0x3 data read/write accessed  dpl 0  P DB G$");
        assertLine(out, "^tr +0x0000  .*type 0xb TSS \\(busy\\)");
        assertLine(out, "^ldtr +0x0000  unusable$");
        assertLine(out, "^gdt +base 0x0000000000001000  limit 0x0017$");
        assertLine(out, "^apic_base +0xfee00900 +BSP EN at 0xfee00000$");
        assertLine(out, "^dr0 +0x100010$");
        assertLine(out, "^dr6 +0xffff4ff1 +B0 BS$");
        assertLine(out, "^dr7 +0xd0402 +dr0: G write 4$");
        assertEquals(List.of("KVM_GET_SREGS", "KVM_GET_DEBUGREGS"), vcpu.callNames(), "read only, never written");
    }

    @Test
    void infoRegsTakesNoArguments() {
        bootState();
        assertThrows(IllegalArgumentException.class, () -> command("info regs").run(vcpu, List.of("cr0")));
    }

    @Test
    void infoMemListsTheBootIdentityMap() {
        bootState();
        String out = command("info mem").run(vcpu, List.of("0x100000", "0x200000"));
        assertLine(out, "^vCPU 1, 4-level paging, cr3 0x2000: \\[0x100000, 0x200000\\)$");
        assertLine(out, "^0x0000000000100000-0x0000000000200000 -> 0x0000000000100000  2M    rw kernel exec$");
        assertEquals(3, out.split("\n").length, out);
    }

    @Test
    void infoMemSaysWhenNothingIsMapped() {
        bootState();
        String out = command("info mem").run(vcpu, List.of("0xffff800000000000", "0xffff800000001000"));
        assertLine(out, "^nothing is mapped there$");
    }

    @Test
    void infoMemRefusesBadArguments() {
        bootState();
        MonitorCommand mem = command("info mem");
        assertEquals("START: 'ffff' is not a number (hex needs 0x)",
                assertThrows(IllegalArgumentException.class, () -> mem.run(vcpu, List.of("ffff", "0x2000"))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> mem.run(vcpu, List.of("0x2000")));
        assertThrows(IllegalArgumentException.class, () -> mem.run(vcpu, List.of("0x2000", "0x1000")));
    }

    @Test
    void theProviderOffersBothCommandsWithHelp() {
        List<MonitorCommand> commands = new X86_64ArchitectureProvider().monitorCommands();
        assertEquals(List.of("info regs", "info mem"), commands.stream().map(MonitorCommand::name).toList());
        assertEquals("START END", commands.get(1).usage());
        assertTrue(commands.stream().noneMatch(c -> c.help().isBlank()));
    }
}

package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.core.testing.TestDescriptions;

/** Which registers a stop reply carries, chosen from the target description alone. */
class ExpeditedRegistersTest {

    @Test
    void x86_64ExpeditesRbpRspAndRip() {
        TargetDescription d = TestDescriptions.x86_64();
        assertEquals(List.of(d.register("rbp").orElseThrow().regnum(), d.register("rsp").orElseThrow().regnum(),
                d.register("rip").orElseThrow().regnum()), ExpeditedRegisters.choose(d));
        assertEquals(List.of(6, 7, 16), ExpeditedRegisters.choose(d), "GDB's amd64 numbers");
    }

    @Test
    void aarch64StyleExpeditesSpAndPc() {
        // gdb/features/aarch64-core.xml: x29 is the frame pointer but an int64, so only sp and pc qualify.
        TargetDescription d = new TargetDescription("aarch64", null, List.of(new Feature("org.gnu.gdb.aarch64.core", List.of(), List.of(
                new RegisterDescriptor("x29", 64, "int", null, 0),
                new RegisterDescriptor("x30", 64, "int", null, 1),
                new RegisterDescriptor("sp", 64, "data_ptr", null, 2),
                new RegisterDescriptor("pc", 64, "code_ptr", null, 3),
                new RegisterDescriptor("cpsr", 32, "int", null, 4)))));
        assertEquals(List.of(2, 3), ExpeditedRegisters.choose(d));
    }

    @Test
    void aDataPointerThatIsNotAStackOrFramePointerIsNotExpedited() {
        TargetDescription d = new TargetDescription("test", null, List.of(new Feature("org.kvmgdb.test", List.of(), List.of(
                new RegisterDescriptor("tp", 64, "data_ptr", null, 0),
                new RegisterDescriptor("rsp", 64, "int64", null, 1),
                new RegisterDescriptor("ip", 64, "code_ptr", null, 2)))));
        assertEquals(List.of(2), ExpeditedRegisters.choose(d));
    }

    @Test
    void theSmallTestDescriptionExpeditesSpAndPc() {
        assertEquals(List.of(2, 3), ExpeditedRegisters.choose(TestDescriptions.small()));
    }
}

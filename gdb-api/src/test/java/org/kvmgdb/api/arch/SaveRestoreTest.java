package org.kvmgdb.api.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** GDB's {@code save-restore} attribute of {@code <reg>}, from the register table to {@code target.xml}. */
class SaveRestoreTest {
    private static final TargetDescription D = TargetDescription.of("aarch64", null, List.<IntFunction<Feature>>of(
            first -> new FeatureBuilder("org.gnu.gdb.test.core", first)
                    .reg("pc", 64, "code_ptr")
                    .reg("counter", 64, "uint64", "system", false)
                    .reg("flags", 32, "int", "system", true)
                    .build()));

    @Test
    void aRegisterNotSavedAndRestoredIsMarkedNoAndTheOthersKeepGdbsDefault() {
        String xml = D.toXml();
        assertTrue(xml.contains("<reg name=\"counter\" bitsize=\"64\" type=\"uint64\" regnum=\"1\" save-restore=\"no\" group=\"system\"/>"), xml);
        assertTrue(xml.contains("<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"0\"/>"), xml);
        assertTrue(xml.contains("<reg name=\"flags\" bitsize=\"32\" type=\"int\" regnum=\"2\" group=\"system\"/>"), xml);
        assertEquals(1, xml.split("save-restore", -1).length - 1, "only the one register says save-restore: " + xml);
    }

    @Test
    void theFiveArgumentConstructorMeansSavedAndRestored() {
        RegisterDescriptor old = new RegisterDescriptor("rip", 64, "code_ptr", null, 16);
        assertTrue(old.saveRestore());
        assertEquals(new RegisterDescriptor("rip", 64, "code_ptr", null, 16, true), old);
        assertFalse(D.register("counter").orElseThrow().saveRestore());
    }
}

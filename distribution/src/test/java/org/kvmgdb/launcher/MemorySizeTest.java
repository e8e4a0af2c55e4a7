package org.kvmgdb.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class MemorySizeTest {

    @Test
    void suffixesArePowersOf1024() {
        assertEquals(128L << 20, MemorySize.parse("128M"));
        assertEquals(128L << 20, MemorySize.parse("128m"));
        assertEquals(2048L << 10, MemorySize.parse("2048K"));
        assertEquals(4L << 30, MemorySize.parse("4G"));
    }

    @Test
    void aNumberAloneMeansMebibytesAsWithQemu() {
        assertEquals(256L << 20, MemorySize.parse("256"));
    }

    @Test
    void refusals() {
        assertRefused("", "not a size");
        assertRefused("M", "not a size");
        assertRefused("12Q", "not a size");
        assertRefused("-1M", "not a size");
        assertRefused("1.5G", "not a size");
        assertRefused("0x10M", "not a size");
        assertRefused("512K", "too small");
        assertRefused("0", "too small");
        assertRefused("1026K", "not a multiple of 4K");
        assertRefused("99999999999999G", "too large");
        assertRefused("99999999999999999999", "too large");
    }

    private static void assertRefused(String value, String why) {
        TypeConversionException e = assertThrows(TypeConversionException.class, () -> MemorySize.parse(value));
        assertTrue(e.getMessage().contains(why) && e.getMessage().contains("'" + value + "'"), e.getMessage());
    }
}

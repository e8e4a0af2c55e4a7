package org.kvmgdb.launcher;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --memory SIZE}: a number with an optional K, M or G suffix (powers of 1024). As with
 * QEMU's {@code -m}, a number alone means MiB.
 */
final class MemorySize implements ITypeConverter<Long> {
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long GIB = 1024 * MIB;
    /** KVM memory slots are page-granular. */
    static final long PAGE = 4 * KIB;
    /** Room for the VMM's reserved 64 KiB, a guest and its stacks. */
    static final long MINIMUM = MIB;

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    static long parse(String value) {
        String text = value.strip().toUpperCase(Locale.ROOT);
        long unit = MIB;
        if (!text.isEmpty()) {
            switch (text.charAt(text.length() - 1)) {
                case 'K':
                    unit = KIB;
                    break;
                case 'M':
                    unit = MIB;
                    break;
                case 'G':
                    unit = GIB;
                    break;
                default:
                    unit = 0;
            }
            if (unit != 0) {
                text = text.substring(0, text.length() - 1);
            } else {
                unit = MIB;
            }
        }
        if (text.isEmpty() || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new TypeConversionException("'" + value + "' is not a size: use a number with K, M or G, e.g. 128M");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Long.parseLong(text), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is too large");
        }
        if (bytes < MINIMUM) {
            throw new TypeConversionException("'" + value + "' is too small: at least 1M");
        }
        if (bytes % PAGE != 0) {
            throw new TypeConversionException("'" + value + "' is not a multiple of 4K");
        }
        return bytes;
    }
}

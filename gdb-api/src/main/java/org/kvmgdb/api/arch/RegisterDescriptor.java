package org.kvmgdb.api.arch;

import java.util.Objects;

/**
 * One register as GDB's target description names it.
 *
 * @param name    GDB's name, e.g. {@code rip}
 * @param bitSize size in bits; the register takes {@code bitSize / 8} bytes of the {@code g} packet
 * @param type    a GDB type ({@code int}, {@code code_ptr}, {@code data_ptr}, {@code i387_ext}, ...)
 *                or the id of a {@link TypeDefinition} of the same feature
 * @param group   GDB register group ({@code general}, {@code float}, {@code vector}, {@code system}), or null
 * @param regnum  GDB's register number; also the register's position in the {@code g} packet
 * @param saveRestore whether GDB saves the register before an inferior call and restores it after
 *                (the {@code save-restore} attribute of {@code <reg>}, "yes" by default); false for
 *                state that moves on by itself and must not be rewound, such as a counter
 */
public record RegisterDescriptor(String name, int bitSize, String type, String group, int regnum, boolean saveRestore) {
    public RegisterDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (bitSize <= 0 || bitSize % 8 != 0) {
            throw new IllegalArgumentException(name + ": bit size must be a positive multiple of 8, was " + bitSize);
        }
        if (regnum < 0) {
            throw new IllegalArgumentException(name + ": negative regnum " + regnum);
        }
    }

    /** A register GDB saves and restores around inferior calls, as every register was before {@code saveRestore} existed. */
    public RegisterDescriptor(String name, int bitSize, String type, String group, int regnum) {
        this(name, bitSize, type, group, regnum, true);
    }

    public int byteSize() {
        return bitSize / 8;
    }
}

package org.kvmgdb.api.arch;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds one target-description feature the way GDB's feature XML files read: types first, then
 * registers in order. Regnums continue from {@code firstRegnum}, so features appended one after the
 * other keep the table contiguous (see {@link TargetDescription#of}).
 */
public final class FeatureBuilder {
    private final String name;
    private int nextRegnum;
    private final List<TypeDefinition> types = new ArrayList<>();
    private final List<RegisterDescriptor> registers = new ArrayList<>();

    public FeatureBuilder(String name, int firstRegnum) {
        this.name = name;
        this.nextRegnum = firstRegnum;
    }

    public FeatureBuilder type(TypeDefinition type) {
        types.add(type);
        return this;
    }

    public FeatureBuilder reg(String regName, int bitSize, String type) {
        return reg(regName, bitSize, type, null);
    }

    public FeatureBuilder reg(String regName, int bitSize, String type, String group) {
        return reg(regName, bitSize, type, group, true);
    }

    /**
     * A register with GDB's {@code save-restore} attribute: false writes {@code save-restore="no"},
     * so gdb neither saves it before an inferior call nor writes it back afterwards.
     */
    public FeatureBuilder reg(String regName, int bitSize, String type, String group, boolean saveRestore) {
        registers.add(new RegisterDescriptor(regName, bitSize, type, group, nextRegnum++, saveRestore));
        return this;
    }

    /** One register per name, all of one size, type and group. */
    public FeatureBuilder regs(List<String> names, int bitSize, String type, String group) {
        names.forEach(n -> reg(n, bitSize, type, group));
        return this;
    }

    /** {@code prefix + first} .. {@code prefix + last}, e.g. {@code xmm0..xmm15}, {@code v0..v31}. */
    public FeatureBuilder numbered(String prefix, int first, int last, int bitSize, String type, String group) {
        return numbered(prefix, first, last, bitSize, type, group, "");
    }

    /** {@code prefix + first + suffix} .. {@code prefix + last + suffix}, e.g. {@code ymm0h..ymm15h}. */
    public FeatureBuilder numbered(String prefix, int first, int last, int bitSize, String type, String group, String suffix) {
        for (int i = first; i <= last; i++) {
            reg(prefix + i + suffix, bitSize, type, group);
        }
        return this;
    }

    public Feature build() {
        return new Feature(name, types, registers);
    }
}

package org.kvmgdb.arch.x86;

import java.util.ArrayList;
import java.util.List;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TypeDefinition;

/**
 * Builds one target-description feature the way GDB's feature XML files read: types first, then
 * registers in order. Regnums continue from {@code firstRegnum}, so features appended one after the
 * other keep the table contiguous.
 */
final class FeatureBuilder {
    private final String name;
    private int nextRegnum;
    private final List<TypeDefinition> types = new ArrayList<>();
    private final List<RegisterDescriptor> registers = new ArrayList<>();

    FeatureBuilder(String name, int firstRegnum) {
        this.name = name;
        this.nextRegnum = firstRegnum;
    }

    FeatureBuilder type(TypeDefinition type) {
        types.add(type);
        return this;
    }

    FeatureBuilder reg(String regName, int bitSize, String type) {
        return reg(regName, bitSize, type, null);
    }

    FeatureBuilder reg(String regName, int bitSize, String type, String group) {
        registers.add(new RegisterDescriptor(regName, bitSize, type, group, nextRegnum++));
        return this;
    }

    /** One register per name, all of one size, type and group. */
    FeatureBuilder regs(List<String> names, int bitSize, String type, String group) {
        names.forEach(n -> reg(n, bitSize, type, group));
        return this;
    }

    /** {@code prefix + first} .. {@code prefix + last}, e.g. {@code xmm0..xmm15}. */
    FeatureBuilder numbered(String prefix, int first, int last, int bitSize, String type, String group) {
        return numbered(prefix, first, last, bitSize, type, group, "");
    }

    /** {@code prefix + first + suffix} .. {@code prefix + last + suffix}, e.g. {@code ymm0h..ymm15h}. */
    FeatureBuilder numbered(String prefix, int first, int last, int bitSize, String type, String group, String suffix) {
        for (int i = first; i <= last; i++) {
            reg(prefix + i + suffix, bitSize, type, group);
        }
        return this;
    }

    Feature build() {
        return new Feature(name, types, registers);
    }
}

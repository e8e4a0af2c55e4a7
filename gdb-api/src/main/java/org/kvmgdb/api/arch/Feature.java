package org.kvmgdb.api.arch;

import java.util.List;

/**
 * A target-description feature, named as GDB names it ({@code org.gnu.gdb.i386.core}, ...), with the
 * types it defines and its registers.
 */
public record Feature(String name, List<TypeDefinition> types, List<RegisterDescriptor> registers) {
    public Feature {
        types = List.copyOf(types);
        registers = List.copyOf(registers);
    }
}

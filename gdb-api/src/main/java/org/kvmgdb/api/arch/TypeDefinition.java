package org.kvmgdb.api.arch;

import java.util.List;

/** A type a target-description feature defines for its registers (GDB manual, "Predefined Target Types" and after). */
public sealed interface TypeDefinition permits TypeDefinition.Vector, TypeDefinition.Union, TypeDefinition.Flags {

    String id();

    /** {@code <vector id="v4f" type="ieee_single" count="4"/>} */
    record Vector(String id, String elementType, int count) implements TypeDefinition {
    }

    /** {@code <union id="vec128"><field name="v4_float" type="v4f"/>...</union>} */
    record Union(String id, List<Field> fields) implements TypeDefinition {
        public Union {
            fields = List.copyOf(fields);
        }
    }

    /** {@code <flags id="i386_eflags" size="4"><field name="CF" start="0" end="0"/>...</flags>} */
    record Flags(String id, int size, List<BitField> fields) implements TypeDefinition {
        public Flags {
            fields = List.copyOf(fields);
        }
    }

    /** A named member of a union. */
    record Field(String name, String type) {
    }

    /** A bit range {@code start..end} (inclusive) of a flags type. */
    record BitField(String name, int start, int end) {
        public static BitField bit(String name, int bit) {
            return new BitField(name, bit, bit);
        }
    }
}

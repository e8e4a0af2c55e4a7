package org.kvmgdb.api.arch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * The one register table of an architecture. Both the {@code g} packet layout ({@link #offsetOf},
 * {@link #gPacketSize}) and {@code target.xml} ({@link #toXml}) are derived from it, so they cannot
 * disagree.
 *
 * <p>Registers are laid out in the {@code g} packet in regnum order; regnums must be unique and
 * contiguous from 0, which is what GDB assumes when it reads a description without gaps.
 *
 * <p>{@code architecture} is GDB's {@code <architecture>} value (e.g. {@code i386:x86-64});
 * {@code osabi} is GDB's {@code <osabi>} value, or null to leave it out (bare metal).
 */
public final class TargetDescription {
    private final String architecture;
    private final String osabi;
    private final List<Feature> features;
    private final List<RegisterDescriptor> registers;
    private final int[] offsets;
    private final int gPacketSize;

    public TargetDescription(String architecture, String osabi, List<Feature> features) {
        this.architecture = architecture;
        this.osabi = osabi;
        this.features = List.copyOf(features);
        List<RegisterDescriptor> all = new ArrayList<>();
        this.features.forEach(f -> all.addAll(f.registers()));
        all.sort(Comparator.comparingInt(RegisterDescriptor::regnum));
        offsets = new int[all.size()];
        int offset = 0;
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).regnum() != i) {
                throw new IllegalArgumentException("regnums must be 0.." + (all.size() - 1) + " without gaps or repeats; "
                        + all.get(i).name() + " has " + all.get(i).regnum() + " at position " + i);
            }
            offsets[i] = offset;
            offset += all.get(i).byteSize();
        }
        this.registers = Collections.unmodifiableList(all);
        this.gPacketSize = offset;
    }

    /**
     * Builds a description from features in {@code g} packet order, each made by a function of the
     * first regnum it gets (the one after the previous feature's last), as {@link FeatureBuilder} does.
     */
    public static TargetDescription of(String architecture, String osabi, List<IntFunction<Feature>> features) {
        List<Feature> built = new ArrayList<>();
        int next = 0;
        for (IntFunction<Feature> f : features) {
            Feature feature = f.apply(next);
            built.add(feature);
            next += feature.registers().size();
        }
        return new TargetDescription(architecture, osabi, built);
    }

    public String architecture() {
        return architecture;
    }

    public String osabi() {
        return osabi;
    }

    public List<Feature> features() {
        return features;
    }

    /** Every register in regnum ({@code g} packet) order. */
    public List<RegisterDescriptor> registers() {
        return registers;
    }

    public RegisterDescriptor register(int regnum) {
        return registers.get(regnum);
    }

    public Optional<RegisterDescriptor> register(String name) {
        return registers.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    /** Byte offset of register {@code regnum} in the {@code g} packet's binary form. */
    public int offsetOf(int regnum) {
        return offsets[regnum];
    }

    /** Size in bytes of the {@code g} packet's binary form (twice that in hex digits). */
    public int gPacketSize() {
        return gPacketSize;
    }

    /** {@code target.xml}: one document with every feature inline. */
    public String toXml() {
        StringBuilder x = new StringBuilder();
        x.append("<?xml version=\"1.0\"?>\n");
        x.append("<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n");
        x.append("<target version=\"1.0\">\n");
        x.append("  <architecture>").append(escape(architecture)).append("</architecture>\n");
        if (osabi != null) {
            x.append("  <osabi>").append(escape(osabi)).append("</osabi>\n");
        }
        for (Feature f : features) {
            x.append("  <feature name=\"").append(escape(f.name())).append("\">\n");
            for (TypeDefinition t : f.types()) {
                appendType(x, t);
            }
            for (RegisterDescriptor r : f.registers()) {
                x.append("    <reg name=\"").append(escape(r.name()))
                        .append("\" bitsize=\"").append(r.bitSize())
                        .append("\" type=\"").append(escape(r.type()))
                        .append("\" regnum=\"").append(r.regnum()).append('"');
                if (!r.saveRestore()) {
                    x.append(" save-restore=\"no\""); // gdb-target.dtd: (yes | no) "yes"
                }
                if (r.group() != null) {
                    x.append(" group=\"").append(escape(r.group())).append('"');
                }
                x.append("/>\n");
            }
            x.append("  </feature>\n");
        }
        x.append("</target>\n");
        return x.toString();
    }

    private static void appendType(StringBuilder x, TypeDefinition t) {
        if (t instanceof TypeDefinition.Vector v) {
            x.append("    <vector id=\"").append(escape(v.id())).append("\" type=\"").append(escape(v.elementType()))
                    .append("\" count=\"").append(v.count()).append("\"/>\n");
        } else if (t instanceof TypeDefinition.Union u) {
            x.append("    <union id=\"").append(escape(u.id())).append("\">\n");
            for (TypeDefinition.Field f : u.fields()) {
                x.append("      <field name=\"").append(escape(f.name())).append("\" type=\"").append(escape(f.type())).append("\"/>\n");
            }
            x.append("    </union>\n");
        } else if (t instanceof TypeDefinition.Flags fl) {
            x.append("    <flags id=\"").append(escape(fl.id())).append("\" size=\"").append(fl.size()).append("\">\n");
            for (TypeDefinition.BitField b : fl.fields()) {
                x.append("      <field name=\"").append(escape(b.name())).append("\" start=\"").append(b.start())
                        .append("\" end=\"").append(b.end()).append("\"/>\n");
            }
            x.append("    </flags>\n");
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}

package org.kvmgdb.api.arch.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.TypeDefinition;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * What every architecture plugin must satisfy (Netty-style shared suite): the register table and its
 * {@code target.xml} agree with each other and with GDB's rules, real gdb accepts the description
 * and computes the same {@code g} layout, the breakpoint instruction exists, and — where the plugin
 * reads registers from KVM — a {@code G} followed by a {@code g} gives the bytes back.
 *
 * <p>A subclass names the provider, the gdb that understands its architecture and gdb's breakpoint
 * kind; if the provider offers {@link ArchitectureProvider#registerAccess()}, it must also supply a
 * {@link #kernelLikeVcpu()} (usually a {@link KernelLikeVcpu} set up with the architecture's ioctls).
 */
public abstract class ArchitectureContract {

    /**
     * The types GDB provides to every target description (GDB manual, "Predefined Target Types"),
     * usable by a register or inside a type definition.
     */
    public static final Set<String> GDB_PREDEFINED_TYPES = Set.of(
            "bool",
            "int8", "int16", "int24", "int32", "int64", "int128",
            "uint8", "uint16", "uint24", "uint32", "uint64", "uint128",
            "code_ptr", "data_ptr",
            "ieee_half", "ieee_single", "ieee_double", "bfloat16",
            "arm_fpa_ext", "i387_ext",
            "i386_eflags", "i386_mxcsr");

    /** A {@code <reg>} may also say {@code int} or {@code float}: an integer or float of its bit size. */
    public static final Set<String> GDB_REGISTER_ONLY_TYPES = Set.of("int", "float");

    private static final long GDB_TIMEOUT_SECONDS = 120;

    /** The provider under test. */
    protected abstract ArchitectureProvider provider();

    /**
     * The gdb that knows this architecture: {@code /usr/bin/gdb} for {@code i386:x86-64},
     * {@code gdb-multiarch} for the others. A name without a slash is looked up on PATH.
     */
    protected abstract String gdbBinary();

    /** The {@code Z0} kind gdb sends for this architecture's software breakpoint. */
    protected abstract int defaultBreakpointKind();

    /**
     * A new vCPU that keeps register state as KVM would; needed when the provider offers
     * {@link ArchitectureProvider#registerAccess()}. Each call returns a fresh one.
     */
    protected Optional<VcpuHandle> kernelLikeVcpu() {
        return Optional.empty();
    }

    /** Whether KVM keeps every bit of this register as written; others are left out of the round-trip comparison. */
    protected boolean keptVerbatim(RegisterDescriptor register) {
        return true;
    }

    /** Turns random register bytes into ones the kernel accepts (e.g. a valid PSTATE mode). Default: unchanged. */
    protected void makeAcceptableToKernel(TargetDescription description, byte[] g) {
    }

    /** The name of the program counter register; by default the one register of type {@code code_ptr}. */
    protected String programCounterName() {
        List<RegisterDescriptor> codePointers = description().registers().stream()
                .filter(r -> r.type().equals("code_ptr")).collect(Collectors.toList());
        assertEquals(1, codePointers.size(), "expected exactly one code_ptr register, override programCounterName(): " + codePointers);
        return codePointers.get(0).name();
    }

    /** The target's byte order, in which the {@code g} packet holds values. */
    protected ByteOrder byteOrder() {
        return ByteOrder.LITTLE_ENDIAN;
    }

    protected final TargetDescription description() {
        return provider().targetDescription();
    }

    // ---------------------------------------------------------------- identity

    @Test
    void providerIsFoundByServiceLoader() {
        Class<?> type = provider().getClass();
        List<ArchitectureProvider> found = ServiceLoader.load(ArchitectureProvider.class).stream()
                .filter(p -> p.type().equals(type)).map(ServiceLoader.Provider::get).collect(Collectors.toList());
        assertEquals(1, found.size(), type.getName() + " must be listed once in META-INF/services/" + ArchitectureProvider.class.getName());
        assertEquals(provider().id(), found.get(0).id());
    }

    @Test
    void idAndElfMachineAreSet() {
        assertTrue(provider().id().matches("[a-z0-9][a-z0-9_-]*"), "id usable with -Dkvmgdb.arch=: " + provider().id());
        assertTrue(provider().elfMachine() > 0 && provider().elfMachine() <= 0xFFFF, "e_machine is a 16-bit ELF value: " + provider().elfMachine());
        assertNotNull(description().architecture(), "<architecture> is what tells gdb which gdbarch to use");
    }

    /** {@code monitor} matches commands by their words and lists them in {@code monitor help}. */
    @Test
    void monitorCommandsHaveDistinctNamesOfWordsAndHelp() {
        Set<String> names = new HashSet<>();
        for (MonitorCommand c : provider().monitorCommands()) {
            assertTrue(c.name().matches("[a-z0-9_-]+( [a-z0-9_-]+)*"), "lowercase words, one space apart: '" + c.name() + "'");
            assertTrue(names.add(c.name()), "two monitor commands named " + c.name());
            assertFalse(c.help().isBlank(), c.name() + " needs help text");
            assertFalse(c.help().contains("\n"), c.name() + ": help is one line");
            assertNotNull(c.usage(), c.name());
        }
    }

    // ---------------------------------------------------------------- target.xml

    @Test
    void targetXmlIsWellFormedAndListsEveryRegisterOnceInRegnumOrder() throws Exception {
        Document doc = parse(description().toXml());
        Element target = doc.getDocumentElement();
        assertEquals("target", target.getTagName());
        assertEquals(description().architecture(), textOf(target, "architecture"));
        assertEquals(description().osabi(), textOf(target, "osabi"));

        List<Element> regs = elements(target.getElementsByTagName("reg"));
        List<RegisterDescriptor> expected = description().registers();
        assertEquals(expected.size(), regs.size(), "one <reg> per register");
        Set<String> names = new HashSet<>();
        for (int i = 0; i < regs.size(); i++) {
            Element reg = regs.get(i);
            RegisterDescriptor r = expected.get(i);
            assertTrue(names.add(reg.getAttribute("name")), "register listed twice: " + reg.getAttribute("name"));
            assertEquals(String.valueOf(i), reg.getAttribute("regnum"), "<reg> number " + i + " in document order is " + reg.getAttribute("name"));
            assertEquals(r.name(), reg.getAttribute("name"));
            assertEquals(String.valueOf(r.bitSize()), reg.getAttribute("bitsize"), r.name());
            assertEquals(r.type(), reg.getAttribute("type"), r.name());
            assertEquals(r.group() == null ? "" : r.group(), reg.getAttribute("group"), r.name());
            assertEquals(r.saveRestore() ? "" : "no", reg.getAttribute("save-restore"), r.name() + " save-restore");
        }
    }

    @Test
    void targetXmlCarriesEveryFeatureWithItsTypesAndRegisters() throws Exception {
        Document doc = parse(description().toXml());
        List<Element> features = elements(doc.getDocumentElement().getElementsByTagName("feature"));
        assertEquals(description().features().size(), features.size());
        for (int i = 0; i < features.size(); i++) {
            Feature f = description().features().get(i);
            Element e = features.get(i);
            assertEquals(f.name(), e.getAttribute("name"));
            List<String> typeIds = new ArrayList<>();
            for (Element child : children(e)) {
                if (!child.getTagName().equals("reg")) {
                    typeIds.add(child.getAttribute("id"));
                }
            }
            assertEquals(f.types().stream().map(TypeDefinition::id).collect(Collectors.toList()), typeIds, f.name() + " types");
            assertEquals(f.registers().stream().map(RegisterDescriptor::name).collect(Collectors.toList()),
                    elements(e.getElementsByTagName("reg")).stream().map(r -> r.getAttribute("name")).collect(Collectors.toList()),
                    f.name() + " registers");
        }
    }

    @Test
    void gPacketSizeIsTheSumOfRegisterSizesAndOffsetsFollowRegnumOrder() {
        TargetDescription d = description();
        int sum = 0;
        for (RegisterDescriptor r : d.registers()) {
            assertEquals(sum, d.offsetOf(r.regnum()), r.name() + " starts where the registers before it end");
            sum += r.byteSize();
        }
        assertEquals(sum, d.gPacketSize());
        int inFeatures = d.features().stream().flatMap(f -> f.registers().stream()).mapToInt(RegisterDescriptor::byteSize).sum();
        assertEquals(inFeatures, d.gPacketSize(), "every register of every feature is in the g packet");
    }

    @Test
    void featureNamesFollowGdb() {
        Set<String> seen = new HashSet<>();
        for (Feature f : description().features()) {
            assertTrue(f.name().startsWith("org.gnu.gdb."), "GDB recognises features by its own names: " + f.name());
            assertTrue(seen.add(f.name()), "feature listed twice: " + f.name());
            assertFalse(f.registers().isEmpty(), f.name() + " has no registers");
        }
    }

    @Test
    void everyRegisterTypeIsPredefinedOrDefinedInItsFeature() {
        for (Feature f : description().features()) {
            Map<String, TypeDefinition> defined = new HashMap<>();
            f.types().forEach(t -> defined.put(t.id(), t));
            for (RegisterDescriptor r : f.registers()) {
                String type = r.type();
                assertTrue(GDB_PREDEFINED_TYPES.contains(type) || GDB_REGISTER_ONLY_TYPES.contains(type) || defined.containsKey(type),
                        f.name() + ": " + r.name() + " has type " + type + ", neither GDB's nor defined in the feature");
                TypeDefinition t = defined.get(type);
                if (t instanceof TypeDefinition.Flags) {
                    assertEquals(((TypeDefinition.Flags) t).size() * 8, r.bitSize(), r.name() + " is as wide as its flags type " + type);
                }
            }
        }
    }

    @Test
    void typeDefinitionsReferOnlyToTypesDefinedBeforeThem() {
        for (Feature f : description().features()) {
            Set<String> known = new HashSet<>(GDB_PREDEFINED_TYPES);
            for (TypeDefinition t : f.types()) {
                String where = f.name() + ": type " + t.id();
                if (t instanceof TypeDefinition.Vector) {
                    TypeDefinition.Vector v = (TypeDefinition.Vector) t;
                    assertTrue(known.contains(v.elementType()), where + " uses unknown element type " + v.elementType());
                    assertTrue(v.count() > 0, where + " count");
                } else if (t instanceof TypeDefinition.Union) {
                    TypeDefinition.Union u = (TypeDefinition.Union) t;
                    assertFalse(u.fields().isEmpty(), where + " has no fields");
                    u.fields().forEach(field -> assertTrue(known.contains(field.type()),
                            where + " field " + field.name() + " uses unknown type " + field.type()));
                } else if (t instanceof TypeDefinition.Flags) {
                    TypeDefinition.Flags fl = (TypeDefinition.Flags) t;
                    assertTrue(Set.of(1, 2, 4, 8).contains(fl.size()), where + " size " + fl.size());
                    fl.fields().forEach(b -> assertTrue(0 <= b.start() && b.start() <= b.end() && b.end() < fl.size() * 8,
                            where + " field " + b.name() + " bits " + b.start() + ".." + b.end()));
                }
                assertTrue(known.add(t.id()) || GDB_PREDEFINED_TYPES.contains(t.id()), where + " defined twice");
            }
        }
    }

    // ---------------------------------------------------------------- breakpoints

    @Test
    void softwareBreakpointForTheDefaultKindIsAnInstruction() {
        byte[] first = provider().softwareBreakpoint().instruction(defaultBreakpointKind());
        assertNotNull(first, "no instruction for gdb's kind " + defaultBreakpointKind());
        assertTrue(first.length > 0, "empty breakpoint instruction");
        Arrays.fill(first, (byte) 0x5A);
        byte[] second = provider().softwareBreakpoint().instruction(defaultBreakpointKind());
        assertFalse(Arrays.equals(first, second), "the instruction bytes must be a copy the caller cannot corrupt");
        assertNull(provider().softwareBreakpoint().instruction(-1), "an invalid kind gets null");
    }

    // ---------------------------------------------------------------- real gdb

    @Test
    void gdbAcceptsTheTargetDescriptionAndComputesTheSameLayout(@TempDir Path dir) throws Exception {
        String gdb = resolveGdb(gdbBinary());
        TargetDescription d = description();
        Path xml = dir.resolve("target.xml");
        Files.writeString(xml, d.toXml(), StandardCharsets.UTF_8);

        String output = runGdb(gdb, dir,
                "set tdesc filename " + xml,
                "show architecture",
                "maint print remote-registers");

        List<String> complaints = output.lines()
                .filter(l -> l.toLowerCase().contains("warning") || l.toLowerCase().contains("error"))
                .collect(Collectors.toList());
        assertTrue(complaints.isEmpty(), "gdb complained about the description: " + complaints + "\n" + output);
        assertTrue(output.contains("(currently \"" + d.architecture() + "\")"),
                "gdb did not switch to " + d.architecture() + ":\n" + output);

        Map<String, String[]> rows = remoteRegisterRows(output);
        for (RegisterDescriptor r : d.registers()) {
            String[] row = rows.get(r.name());
            assertNotNull(row, "gdb does not list register " + r.name() + ":\n" + output);
            // Columns: Name Nr Rel Offset Size Type "Rmt Nr" "g/G Offset"
            assertEquals(String.valueOf(r.byteSize()), row[4], r.name() + " size in gdb");
            assertEquals(String.valueOf(r.regnum()), row[6], r.name() + " remote number in gdb");
            assertEquals(String.valueOf(d.offsetOf(r.regnum())), row[7], r.name() + " g/G offset in gdb");
        }
        for (Feature f : d.features()) {
            Set<String> ids = f.types().stream().map(TypeDefinition::id).collect(Collectors.toSet());
            for (RegisterDescriptor r : f.registers()) {
                if (ids.contains(r.type())) {
                    assertEquals(r.type(), rows.get(r.name())[5], r.name() + " has the type its feature defines");
                }
            }
        }
    }

    /** Rows of {@code maint print remote-registers} by register name (only rows with a remote number). */
    private static Map<String, String[]> remoteRegisterRows(String output) {
        Map<String, String[]> rows = new HashMap<>();
        for (String line : output.lines().collect(Collectors.toList())) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length == 8 && cols[1].matches("\\d+") && cols[6].matches("\\d+") && cols[7].matches("\\d+")) {
                rows.putIfAbsent(cols[0], cols);
            }
        }
        return rows;
    }

    private static String resolveGdb(String binary) {
        Optional<Path> found;
        if (binary.contains("/")) {
            found = Optional.of(Path.of(binary)).filter(Files::isExecutable);
        } else {
            found = Arrays.stream(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator))
                    .map(p -> Path.of(p, binary)).filter(Files::isExecutable).findFirst();
        }
        assumeTrue(found.isPresent(), binary + " not installed: cannot check that gdb accepts the description");
        return found.get().toString();
    }

    private static String runGdb(String gdb, Path dir, String... commands) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(gdb, "-nx", "-batch"));
        for (String c : commands) {
            cmd.add("-ex");
            cmd.add(c);
        }
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(GDB_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(gdb + " did not finish");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), gdb + " failed:\n" + text);
        return text;
    }

    // ---------------------------------------------------------------- registers through KVM

    @Test
    void gThenGRoundTripsThroughTheKernel() {
        RegisterAccess access = registerAccessOrSkip();
        TargetDescription d = description();
        List<RegisterDescriptor> compared = d.registers().stream().filter(this::keptVerbatim).collect(Collectors.toList());
        assertFalse(compared.isEmpty(), "no register is kept verbatim: the round trip would prove nothing");

        // Two vCPUs with different contents: each must give back its own, so nothing is cached
        // outside the (fake) kernel.
        Random random = new Random(0x6b766d);
        byte[] g1 = randomRegisters(random, d);
        byte[] g2 = randomRegisters(random, d);
        VcpuHandle vcpu1 = newVcpu();
        VcpuHandle vcpu2 = newVcpu();
        access.writeAll(vcpu1, g1);
        access.writeAll(vcpu2, g2);
        byte[] back1 = access.readAll(vcpu1);
        byte[] back2 = access.readAll(vcpu2);

        assertEquals(d.gPacketSize(), back1.length);
        for (RegisterDescriptor r : compared) {
            assertArrayEquals(slice(g1, d, r), slice(back1, d, r), r.name() + " on vCPU 1");
            assertArrayEquals(slice(g2, d, r), slice(back2, d, r), r.name() + " on vCPU 2");
        }
    }

    @Test
    void programCounterIsTheRegisterGdbSees() {
        RegisterAccess access = registerAccessOrSkip();
        TargetDescription d = description();
        RegisterDescriptor pc = d.register(programCounterName()).orElseThrow();
        VcpuHandle vcpu = newVcpu();
        byte[] g = randomRegisters(new Random(42), d);
        access.writeAll(vcpu, g);
        assertEquals(number(slice(g, d, pc)), access.programCounter(vcpu), "programCounter() after G");

        long newPc = 0x0000_7fff_1234_5670L;
        access.setProgramCounter(vcpu, newPc);
        assertEquals(newPc, number(slice(access.readAll(vcpu), d, pc)), pc.name() + " in g after setProgramCounter()");
        assertEquals(newPc, access.programCounter(vcpu));
    }

    private RegisterAccess registerAccessOrSkip() {
        Optional<RegisterAccess> access = provider().registerAccess();
        assumeTrue(access.isPresent(), provider().id() + " offers no registerAccess(): no g/G through KVM to test");
        return access.get();
    }

    private VcpuHandle newVcpu() {
        return kernelLikeVcpu().orElseThrow(() -> new AssertionError(
                provider().id() + " offers registerAccess(), so its contract test must supply kernelLikeVcpu()"));
    }

    private byte[] randomRegisters(Random random, TargetDescription d) {
        byte[] g = new byte[d.gPacketSize()];
        random.nextBytes(g);
        makeAcceptableToKernel(d, g);
        return g;
    }

    protected static byte[] slice(byte[] g, TargetDescription d, RegisterDescriptor r) {
        int offset = d.offsetOf(r.regnum());
        return Arrays.copyOfRange(g, offset, offset + r.byteSize());
    }

    private long number(byte[] bytes) {
        ByteBuffer b = ByteBuffer.allocate(8).order(byteOrder());
        if (byteOrder() == ByteOrder.LITTLE_ENDIAN) {
            b.put(bytes, 0, Math.min(8, bytes.length));
        } else {
            b.position(8 - Math.min(8, bytes.length));
            b.put(bytes, bytes.length - Math.min(8, bytes.length), Math.min(8, bytes.length));
        }
        return b.getLong(0);
    }

    // ---------------------------------------------------------------- XML helpers

    /** Parses with the JDK's parser, without fetching gdb-target.dtd (the DOCTYPE names it). */
    protected static Document parse(String xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setValidating(false);
        factory.setNamespaceAware(false);
        factory.setXIncludeAware(false);
        factory.setExpandEntityReferences(false);
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        DocumentBuilder builder = factory.newDocumentBuilder();
        return builder.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private static String textOf(Element parent, String tag) {
        NodeList list = parent.getElementsByTagName(tag);
        assertTrue(list.getLength() <= 1, "more than one <" + tag + ">");
        return list.getLength() == 0 ? null : list.item(0).getTextContent();
    }

    protected static List<Element> elements(NodeList list) {
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < list.getLength(); i++) {
            out.add((Element) list.item(i));
        }
        return out;
    }

    private static List<Element> children(Element e) {
        List<Element> out = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element) {
                out.add((Element) n);
            }
        }
        return out;
    }
}

package org.kvmgdb.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;

/** The registry over real plugin jars built by the test: good, broken, duplicate and ambiguous providers. */
class ProviderRegistryTest {
    private static final String ARCH_BODY = """
            public int elfMachine() { return 4242; }
            public org.kvmgdb.api.arch.TargetDescription targetDescription() {
                return new org.kvmgdb.api.arch.TargetDescription("test", null, java.util.List.of());
            }
            public org.kvmgdb.api.arch.SoftwareBreakpoint softwareBreakpoint() { return kind -> new byte[] {0}; }
            """;

    private static final String TRANSPORT_BODY = """
            public String syntax() { return "tt:NAME"; }
            public org.kvmgdb.api.transport.TransportAddress parse(String spec, org.kvmgdb.api.transport.TransportOptions options) {
                if (spec.isEmpty()) {
                    throw new org.kvmgdb.api.transport.TransportAddressException("tt needs a NAME; accepted form: tt:NAME");
                }
                if (spec.startsWith("remote") && !options.allowRemote()) {
                    throw new org.kvmgdb.api.transport.TransportAddressException(spec + " is remote: refused");
                }
                return new org.kvmgdb.api.transport.TransportAddress() {
                    public org.kvmgdb.api.transport.Listener bind() { throw new UnsupportedOperationException(); }
                    public String describe() { return "tt:" + spec; }
                };
            }
            """;

    static Path good;
    static Path broken;
    static Path duplicate;
    static Path twin;
    static Path checks;

    @BeforeAll
    static void buildJars(@TempDir Path work) throws Exception {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("GoodArch", "public class GoodArch implements org.kvmgdb.api.arch.ArchitectureProvider {\n"
                + "public String id() { return \"good-arch\"; }\n" + ARCH_BODY + "}\n");
        sources.put("OtherGoodArch", "public class OtherGoodArch implements org.kvmgdb.api.arch.ArchitectureProvider {\n"
                + "public String id() { return \"good-arch\"; }\n" + ARCH_BODY + "}\n");
        sources.put("TwinArch", "public class TwinArch implements org.kvmgdb.api.arch.ArchitectureProvider {\n"
                + "public String id() { return \"twin-arch\"; }\n" + ARCH_BODY + "}\n");
        sources.put("BrokenBase", "public abstract class BrokenBase implements org.kvmgdb.api.arch.ArchitectureProvider {\n"
                + "public String id() { return getClass().getSimpleName(); }\n" + ARCH_BODY + "}\n");
        sources.put("ThrowingArch", "public class ThrowingArch extends BrokenBase {\n"
                + "public ThrowingArch() { throw new IllegalStateException(\"no hardware for ThrowingArch\"); }\n}\n");
        sources.put("AbsentBase", "public abstract class AbsentBase implements org.kvmgdb.api.arch.ArchitectureProvider {}\n");
        sources.put("MissingBaseArch", "public class MissingBaseArch extends AbsentBase {\n"
                + "public String id() { return \"missing-base\"; }\n" + ARCH_BODY + "}\n");
        sources.put("BadIdArch", "public class BadIdArch extends BrokenBase {\n"
                + "public String id() { throw new UnsupportedOperationException(\"id not ready\"); }\n}\n");
        sources.put("StaticInitArch", "public class StaticInitArch extends BrokenBase {\n"
                + "static { if (true) throw new IllegalStateException(\"static init failed\"); }\n"
                + "public String id() { return \"static-init\"; }\n}\n");
        sources.put("NotAnArch", "public class NotAnArch {}\n");
        sources.put("GoodTransport", "public class GoodTransport implements org.kvmgdb.api.transport.TransportProvider {\n"
                + "public String scheme() { return \"tt\"; }\n" + TRANSPORT_BODY + "}\n");
        sources.put("OtherTransport", "public class OtherTransport extends GoodTransport {}\n");
        sources.put("UnavailableTransport", "public class UnavailableTransport extends GoodTransport {\n"
                + "public String scheme() { return \"nope\"; }\n"
                + "public String syntax() { return \"nope:DEV\"; }\n"
                + "public String unavailabilityReason() { return \"no such device here\"; }\n}\n");
        // Availability checks that fail: a bug (an exception) and a class the check needs missing from its jar.
        sources.put("CheckThrowsTransport", "public class CheckThrowsTransport extends GoodTransport {\n"
                + "public String scheme() { return \"boom\"; }\n"
                + "public String syntax() { return \"boom:X\"; }\n"
                + "public String unavailabilityReason() { throw new IllegalStateException(\"probe exploded\"); }\n}\n");
        sources.put("CheckLinkageTransport", "public class CheckLinkageTransport extends GoodTransport {\n"
                + "public String scheme() { return \"gone\"; }\n"
                + "public String syntax() { return \"gone:X\"; }\n"
                + "public String unavailabilityReason() { return AbsentBase.class.getName(); }\n}\n");
        PluginJars plugins = PluginJars.compile(work, sources);

        good = plugins.jar("good.jar").arch("GoodArch").transport("GoodTransport").transport("UnavailableTransport").build();
        broken = plugins.jar("broken.jar").klass("BrokenBase")
                .arch("ThrowingArch").arch("MissingBaseArch").arch("BadIdArch").arch("StaticInitArch").arch("NotAnArch")
                .listAs("org.kvmgdb.api.arch.ArchitectureProvider", "DoesNotExist")
                .build();
        duplicate = plugins.jar("duplicate.jar").arch("OtherGoodArch").transport("OtherTransport").klass("GoodTransport").build();
        twin = plugins.jar("twin.jar").arch("TwinArch").build();
        checks = plugins.jar("checks.jar").transport("CheckThrowsTransport").transport("CheckLinkageTransport").build();
    }

    /** Loaders stay open while the test uses the providers (they load classes lazily). */
    private static final List<URLClassLoader> LOADERS = new ArrayList<>();

    @AfterAll
    static void closeLoaders() throws Exception {
        for (URLClassLoader loader : LOADERS) {
            loader.close();
        }
    }

    private static ProviderRegistry load(Selection selection, Path... jars) throws Exception {
        URLClassLoader loader = PluginJars.loaderOver(jars);
        LOADERS.add(loader);
        return ProviderRegistry.load(loader, selection);
    }

    @Test
    void findsProvidersWithTheJarTheyCameFrom() throws Exception {
        ProviderRegistry registry = load(Selection.NONE, good);
        assertEquals(List.of("good-arch"), keys(registry.architectures()));
        assertEquals(List.of("nope", "tt"), keys(registry.transports()));
        assertEquals(Optional.of(good), registry.architectures().get(0).location());
        assertEquals(Optional.of(good), registry.transports().get(1).location());
        assertTrue(registry.skipped().isEmpty(), registry.skipped().toString());
    }

    @Test
    void brokenProvidersAreSkippedAndTheRestIsUsed() throws Exception {
        ProviderRegistry registry = load(Selection.NONE, broken, good);

        assertEquals(List.of("good-arch"), keys(registry.architectures()));
        assertEquals(good, registry.architectures().get(0).location().orElseThrow());
        Map<String, SkippedProvider> skipped = registry.skipped().stream()
                .collect(Collectors.toMap(SkippedProvider::provider, s -> s));
        assertEquals(List.of("testplugins.BadIdArch", "testplugins.DoesNotExist", "testplugins.MissingBaseArch",
                "testplugins.NotAnArch", "testplugins.StaticInitArch", "testplugins.ThrowingArch"),
                skipped.keySet().stream().sorted().collect(Collectors.toList()));
        // Each one names the jar it came from, and why.
        skipped.values().forEach(s -> assertEquals(broken.toString(), s.location(), s.toString()));
        assertTrue(skipped.get("testplugins.ThrowingArch").reason().contains("no hardware for ThrowingArch"), skipped.toString());
        assertTrue(skipped.get("testplugins.MissingBaseArch").reason().contains("AbsentBase"), skipped.toString());
        assertTrue(skipped.get("testplugins.BadIdArch").reason().contains("id not ready"), skipped.toString());
        assertTrue(skipped.get("testplugins.StaticInitArch").reason().contains("static init failed"), skipped.toString());
        assertTrue(skipped.get("testplugins.DoesNotExist").reason().contains("not found"), skipped.toString());
        assertTrue(skipped.get("testplugins.NotAnArch").reason().contains("not a subtype"), skipped.toString());
        skipped.values().forEach(s -> assertEquals(ArchitectureProvider.class.getName(), s.service()));
    }

    @Test
    void twoProvidersOfOneIdOrSchemeIsAnErrorNamingBothJars() throws Exception {
        RegistryException e = assertThrows(RegistryException.class, () -> load(Selection.NONE, good, duplicate));
        String message = e.getMessage();
        assertTrue(message.contains("'good-arch'") && message.contains("'tt'"), message);
        assertTrue(message.contains(good.toString()) && message.contains(duplicate.toString()), message);
        assertTrue(message.contains("testplugins.GoodArch") && message.contains("testplugins.OtherGoodArch"), message);
        assertFalse(e.userChoice(), "a duplicate is an installation problem, not a usage error");
    }

    @Test
    void oneJarInstalledTwiceIsAnErrorNamingBothCopies() throws Exception {
        // Two versions of one plugin: the same class in two jars. ServiceLoader alone would load it
        // once, from whichever jar comes first.
        Path copy = java.nio.file.Files.copy(good, good.resolveSibling("good-copy.jar"));
        RegistryException e = assertThrows(RegistryException.class, () -> load(Selection.NONE, good, copy));
        assertTrue(e.getMessage().contains("the architecture id 'good-arch' is provided 2 times: testplugins.GoodArch in "
                + good + " and testplugins.GoodArch in " + copy), e.getMessage());
        assertTrue(e.getMessage().contains("the transport scheme 'tt' is provided 2 times"), e.getMessage());
    }

    @Test
    void architectureByElfMachine() throws Exception {
        ProviderRegistry registry = load(Selection.NONE, good);
        assertEquals("good-arch", registry.architectureForElfMachine(4242).key());
        RegistryException none = assertThrows(RegistryException.class, () -> registry.architectureForElfMachine(62));
        assertTrue(none.getMessage().contains("ELF machine 62") && none.getMessage().contains("good-arch (ELF machine 4242)"),
                none.getMessage());
    }

    @Test
    void twoArchitecturesForOneMachineNeedAnExplicitPick() throws Exception {
        ProviderRegistry both = load(Selection.NONE, good, twin);
        RegistryException ambiguous = assertThrows(RegistryException.class, () -> both.architectureForElfMachine(4242));
        assertTrue(ambiguous.getMessage().contains("-Dkvmgdb.arch=ID"), ambiguous.getMessage());
        assertTrue(ambiguous.getMessage().contains(good.toString()) && ambiguous.getMessage().contains(twin.toString()),
                ambiguous.getMessage());

        ProviderRegistry picked = load(new Selection(Optional.of("twin-arch"), Optional.empty()), good, twin);
        assertEquals("twin-arch", picked.architectureForElfMachine(4242).key());
        assertEquals(Optional.empty(), picked.architecture("good-arch"), "a pick leaves the others out");
        assertEquals(2, picked.architectures().size(), "but they are still listed");
        assertFalse(picked.isOffered(picked.architectures().get(0)));
    }

    @Test
    void pickingAnUnknownIdIsAnErrorListingTheKnownOnes() throws Exception {
        RegistryException arch = assertThrows(RegistryException.class,
                () -> load(new Selection(Optional.of("sparc"), Optional.empty()), good, twin));
        assertEquals("-Dkvmgdb.arch=sparc: no such architecture; known: good-arch, twin-arch", arch.getMessage());
        assertTrue(arch.userChoice());

        RegistryException transport = assertThrows(RegistryException.class,
                () -> load(new Selection(Optional.empty(), Optional.of("serial")), good));
        assertEquals("-Dkvmgdb.transport=serial: no such transport; known: nope, tt", transport.getMessage());
    }

    @Test
    void aBlankPickMeansNoPick() {
        assertEquals(Selection.NONE, new Selection(Optional.of("  "), Optional.of("")));
    }

    @Test
    void gdbAddressesAreParsedByTheirProvider() throws Exception {
        ProviderRegistry registry = load(Selection.NONE, good);
        assertEquals("tt:here", registry.parseAddress("tt:here", TransportOptions.DEFAULTS).describe());
        // The provider's own rules apply: it refuses a remote address unless allowed.
        TransportAddressException refused = assertThrows(TransportAddressException.class,
                () -> registry.parseAddress("tt:remote1", TransportOptions.DEFAULTS));
        assertEquals("remote1 is remote: refused", refused.getMessage());
        assertEquals("tt:remote1", registry.parseAddress("tt:remote1", new TransportOptions(true)).describe());
        TransportAddressException malformed = assertThrows(TransportAddressException.class,
                () -> registry.parseAddress("tt:", TransportOptions.DEFAULTS));
        assertEquals("tt needs a NAME; accepted form: tt:NAME", malformed.getMessage());
    }

    @Test
    void anUnknownSchemeNamesTheAcceptedForms() throws Exception {
        ProviderRegistry registry = load(Selection.NONE, good);
        TransportAddressException e = assertThrows(TransportAddressException.class,
                () -> registry.parseAddress("udp:1234", TransportOptions.DEFAULTS));
        assertEquals("unknown transport 'udp' in 'udp:1234'; accepted forms: tt:NAME", e.getMessage());
        TransportAddressException bare = assertThrows(TransportAddressException.class,
                () -> registry.parseAddress("1234", TransportOptions.DEFAULTS));
        assertEquals("unknown transport '1234' in '1234'; accepted forms: tt:NAME", bare.getMessage());
    }

    @Test
    void anUnavailableTransportIsListedButNotUsed() throws Exception {
        ProviderRegistry registry = load(Selection.NONE, good);
        assertEquals(List.of("tt:NAME"), registry.acceptedAddressForms());
        TransportAddressException e = assertThrows(TransportAddressException.class,
                () -> registry.parseAddress("nope:x", TransportOptions.DEFAULTS));
        assertEquals("transport 'nope' in 'nope:x' cannot be used here: no such device here; accepted forms: tt:NAME",
                e.getMessage());
    }

    /**
     * Availability is asked only when needed (issue 7), no longer at load where a failing check got the
     * provider skipped: a check that throws, an exception or a linkage error alike, makes that transport
     * unavailable with the reason, and the error messages and the other transports still work.
     */
    @Test
    void aTransportWhoseAvailabilityCheckFailsIsUnavailableAndTheOthersWork() throws Exception {
        ProviderRegistry registry = load(Selection.NONE, checks, good);
        assertEquals(List.of("boom", "gone", "nope", "tt"), keys(registry.transports()));
        assertEquals(List.of("tt:NAME"), registry.acceptedAddressForms());
        for (String scheme : List.of("boom", "gone")) {
            TransportAddressException e = assertThrows(TransportAddressException.class,
                    () -> registry.parseAddress(scheme + ":x", TransportOptions.DEFAULTS));
            assertTrue(e.getMessage().startsWith("transport '" + scheme + "' in '" + scheme
                    + ":x' cannot be used here: its availability check failed ("), e.getMessage());
            assertTrue(e.getMessage().endsWith("; accepted forms: tt:NAME"), e.getMessage());
        }
        assertTrue(ProviderRegistry.unavailabilityReason(registry.transport("boom").orElseThrow().provider())
                .contains("probe exploded"));
        assertTrue(ProviderRegistry.unavailabilityReason(registry.transport("gone").orElseThrow().provider())
                .contains("AbsentBase"));
        assertEquals("tt:x", registry.parseAddress("tt:x", TransportOptions.DEFAULTS).describe());
    }

    @Test
    void aTransportPickLeavesTheOthersOut() throws Exception {
        ProviderRegistry registry = load(new Selection(Optional.empty(), Optional.of("nope")), good);
        TransportAddressException e = assertThrows(TransportAddressException.class,
                () -> registry.parseAddress("tt:x", TransportOptions.DEFAULTS));
        assertTrue(e.getMessage().contains("transport 'tt' in 'tt:x' is not offered (-Dkvmgdb.transport=nope)"), e.getMessage());
    }

    @Test
    void noPluginsAtAllIsAnEmptyRegistry() throws Exception {
        ProviderRegistry registry = load(Selection.NONE);
        assertTrue(registry.architectures().isEmpty() && registry.transports().isEmpty() && registry.skipped().isEmpty());
        RegistryException e = assertThrows(RegistryException.class, () -> registry.architectureForElfMachine(62));
        assertEquals("no architecture runs ELF machine 62; installed: none", e.getMessage());
    }

    private static List<String> keys(List<? extends ProviderEntry<?>> entries) {
        return entries.stream().map(ProviderEntry::key).collect(Collectors.toList());
    }
}

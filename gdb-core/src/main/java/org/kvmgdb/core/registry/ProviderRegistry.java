package org.kvmgdb.core.registry;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.api.transport.TransportProvider;
import org.tinylog.Logger;

/**
 * The architectures and transports found on the class path, through {@link ServiceLoader} (the
 * only place in kvmgdb that calls it).
 *
 * <p>Loading is defensive, in SLF4J's style: a provider whose class cannot be loaded, whose
 * constructor throws, or whose id cannot be read is logged, recorded in {@link #skipped()} and left
 * out; the others are used. Two providers with one architecture id or one transport scheme are an
 * error naming both jars, because which one would win depends on class path order. An explicit
 * {@code -Dkvmgdb.arch=ID} / {@code -Dkvmgdb.transport=SCHEME} ({@link Selection}) narrows what is
 * offered to that one provider; naming one that was not found is an error listing the known ones.
 */
public final class ProviderRegistry {
    /** Enough for any real class path; stops a loader that keeps failing on one entry forever. */
    private static final int MAX_ERRORS = 1000;

    private final List<ProviderEntry<ArchitectureProvider>> architectures;
    private final List<ProviderEntry<TransportProvider>> transports;
    private final List<SkippedProvider> skipped;
    private final Selection selection;

    private ProviderRegistry(List<ProviderEntry<ArchitectureProvider>> architectures,
            List<ProviderEntry<TransportProvider>> transports, List<SkippedProvider> skipped, Selection selection) {
        this.architectures = List.copyOf(architectures);
        this.transports = List.copyOf(transports);
        this.skipped = List.copyOf(skipped);
        this.selection = selection;
    }

    /**
     * Discovers providers with the thread's context class loader (the launcher's {@code lib/*}) and
     * the picks of {@code -Dkvmgdb.arch} / {@code -Dkvmgdb.transport}.
     *
     * @throws RegistryException on a duplicate id or scheme, or an unknown explicit pick
     */
    public static ProviderRegistry load() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return load(loader != null ? loader : ProviderRegistry.class.getClassLoader(), Selection.fromSystemProperties());
    }

    /**
     * Discovers providers visible to {@code loader}.
     *
     * @throws RegistryException on a duplicate id or scheme, or an unknown explicit pick
     */
    public static ProviderRegistry load(ClassLoader loader, Selection selection) {
        List<SkippedProvider> skipped = new ArrayList<>();
        Map<ProviderEntry<?>, List<String>> listedIn = new IdentityHashMap<>();
        List<ProviderEntry<ArchitectureProvider>> architectures = discover(ArchitectureProvider.class, loader,
                ProviderRegistry::architectureKey, skipped, listedIn);
        List<ProviderEntry<TransportProvider>> transports = discover(TransportProvider.class, loader,
                ProviderRegistry::transportKey, skipped, listedIn);

        List<String> duplicates = new ArrayList<>();
        duplicates.addAll(duplicates("architecture id", architectures, listedIn));
        duplicates.addAll(duplicates("transport scheme", transports, listedIn));
        if (!duplicates.isEmpty()) {
            throw new RegistryException(String.join("; ", duplicates)
                    + "; remove one of the jars (which one would be used depends on class path order)", false);
        }
        checkPick(selection.architecture(), Selection.ARCH_PROPERTY, "architecture", architectures);
        checkPick(selection.transport(), Selection.TRANSPORT_PROPERTY, "transport", transports);

        for (ProviderEntry<ArchitectureProvider> a : architectures) {
            Logger.debug("architecture {} (ELF machine {}) from {}", a.key(), a.provider().elfMachine(), a.locationText());
        }
        for (ProviderEntry<TransportProvider> t : transports) {
            Logger.debug("transport {} ({}) from {}", t.key(), t.provider().syntax(), t.locationText());
        }
        return new ProviderRegistry(architectures, transports, skipped, selection);
    }

    /** Every architecture found, by id, whether offered or not. */
    public List<ProviderEntry<ArchitectureProvider>> architectures() {
        return architectures;
    }

    /** Every transport found, by scheme, whether offered or not. */
    public List<ProviderEntry<TransportProvider>> transports() {
        return transports;
    }

    /** Providers that were found but could not be used, in discovery order. */
    public List<SkippedProvider> skipped() {
        return skipped;
    }

    public Selection selection() {
        return selection;
    }

    /** False when an explicit {@code -Dkvmgdb.arch} / {@code -Dkvmgdb.transport} pick left this entry out. */
    public boolean isOffered(ProviderEntry<?> entry) {
        Optional<String> pick = isArchitecture(entry) ? selection.architecture() : selection.transport();
        return pick.map(entry.key()::equals).orElse(true);
    }

    /**
     * Whether {@code entry} is one of {@link #architectures()}, compared as {@code equals} would (same
     * provider, key and location) but written out: a record's own {@code equals} is linked through
     * invokedynamic ({@code ObjectMethods}) on its first call, ~10 ms of method-handle set-up at start-up.
     */
    private boolean isArchitecture(ProviderEntry<?> entry) {
        for (ProviderEntry<ArchitectureProvider> a : architectures) {
            if (a == entry || a.provider() == entry.provider() && a.key().equals(entry.key())
                    && a.location().equals(entry.location())) {
                return true;
            }
        }
        return false;
    }

    /** The architecture with this id, if it was found and is offered. */
    public Optional<ProviderEntry<ArchitectureProvider>> architecture(String id) {
        return architectures.stream().filter(a -> a.key().equals(id) && isOffered(a)).findFirst();
    }

    /** The offered architectures that run this ELF {@code e_machine}. */
    public List<ProviderEntry<ArchitectureProvider>> architecturesForElfMachine(int elfMachine) {
        return architectures.stream()
                .filter(a -> isOffered(a) && a.provider().elfMachine() == elfMachine)
                .collect(Collectors.toUnmodifiableList());
    }

    /**
     * The one architecture for a guest of this ELF {@code e_machine}.
     *
     * @throws RegistryException when none is offered for it (saying which are installed and any
     *     explicit pick), or when several are and none was picked with {@code -Dkvmgdb.arch}
     */
    public ProviderEntry<ArchitectureProvider> architectureForElfMachine(int elfMachine) {
        List<ProviderEntry<ArchitectureProvider>> candidates = architecturesForElfMachine(elfMachine);
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        if (candidates.isEmpty()) {
            if (selection.architecture().isPresent()) {
                String id = selection.architecture().get();
                int picked = architectures.stream().filter(a -> a.key().equals(id)).findFirst()
                        .map(a -> a.provider().elfMachine()).orElse(-1);
                throw new RegistryException("-D" + Selection.ARCH_PROPERTY + "=" + id + " runs ELF machine " + picked
                        + ", but the guest is ELF machine " + elfMachine, true);
            }
            throw new RegistryException("no architecture runs ELF machine " + elfMachine + "; installed: "
                    + describeArchitectures(architectures), false);
        }
        throw new RegistryException("several architectures run ELF machine " + elfMachine + ": "
                + candidates.stream().map(a -> a.key() + " (" + a.locationText() + ")").collect(Collectors.joining(", "))
                + "; choose one with -D" + Selection.ARCH_PROPERTY + "=ID", true);
    }

    /** The offered transport with this scheme. */
    public Optional<ProviderEntry<TransportProvider>> transport(String scheme) {
        return transports.stream().filter(t -> t.key().equals(scheme) && isOffered(t)).findFirst();
    }

    /** The {@code syntax()} of every transport that is offered and available here, by scheme. */
    public List<String> acceptedAddressForms() {
        return transports.stream()
                .filter(t -> isOffered(t) && unavailabilityReason(t.provider()) == null)
                .map(t -> t.provider().syntax())
                .collect(Collectors.toUnmodifiableList());
    }

    /**
     * Asked only of the transports a message or a run needs, never at load: a check can cost a
     * probe (the Unix transport opens a socket), and a tcp run need not pay for the others' (issue 7).
     * A check that throws makes the transport unavailable, with its message as the reason; a
     * LinkageError too (a class the check needs is missing), as when the check ran at load.
     */
    public static String unavailabilityReason(TransportProvider provider) {
        try {
            return provider.unavailabilityReason();
        } catch (RuntimeException | LinkageError e) {
            Logger.debug(e, "transport {}: availability check failed", provider.scheme());
            return "its availability check failed (" + e + ")";
        }
    }

    /** "accepted forms: ..." for a --gdb value that cannot be used. */
    private String acceptedFormsText() {
        List<String> accepted = acceptedAddressForms();
        return accepted.isEmpty() ? "no transport is installed" : "accepted forms: " + String.join(", ", accepted);
    }

    /**
     * Parses a {@code --gdb} value, {@code SCHEME:SPEC}, with the provider of {@code SCHEME}, so
     * that the provider's own rules (for example, loopback only unless allowed) apply.
     *
     * @throws TransportAddressException for an unknown or unavailable scheme (naming the accepted
     *     forms) or a value the provider refuses (with the provider's message)
     */
    public TransportAddress parseAddress(String value, TransportOptions options) {
        int colon = value.indexOf(':');
        String scheme = colon < 0 ? value : value.substring(0, colon);
        String spec = colon < 0 ? "" : value.substring(colon + 1);
        Optional<ProviderEntry<TransportProvider>> entry = transport(scheme);
        if (entry.isEmpty()) {
            String why = transports.stream().anyMatch(t -> t.key().equals(scheme))
                    ? "transport '" + scheme + "' in '" + value + "' is not offered (-D" + Selection.TRANSPORT_PROPERTY
                            + "=" + selection.transport().orElse("") + ")"
                    : "unknown transport '" + scheme + "' in '" + value + "'";
            throw new TransportAddressException(why + "; " + acceptedFormsText());
        }
        TransportProvider provider = entry.get().provider();
        String unavailable = unavailabilityReason(provider);
        if (unavailable != null) {
            throw new TransportAddressException("transport '" + scheme + "' in '" + value + "' cannot be used here: "
                    + unavailable + "; " + acceptedFormsText());
        }
        try {
            return provider.parse(spec, options);
        } catch (TransportAddressException e) {
            throw e;
        } catch (RuntimeException e) {
            // A provider bug must not look like a crash of the launcher; it is still the value that failed.
            Logger.debug(e, "transport {} failed on '{}'", scheme, spec);
            throw new TransportAddressException("transport '" + scheme + "' could not parse '" + value + "' ("
                    + e + "); " + acceptedFormsText());
        }
    }

    private static String architectureKey(ArchitectureProvider provider) {
        String id = provider.id();
        provider.elfMachine(); // read now, so a provider that cannot answer is skipped here, not later
        if (id == null || id.isBlank() || !id.equals(id.strip())) {
            throw new IllegalStateException("invalid architecture id '" + id + "'");
        }
        return id;
    }

    private static String transportKey(TransportProvider provider) {
        String scheme = provider.scheme();
        if (scheme == null || scheme.isEmpty() || scheme.contains(":") || !scheme.equals(scheme.strip())) {
            throw new IllegalStateException("invalid transport scheme '" + scheme + "'");
        }
        if (provider.syntax() == null) {
            throw new IllegalStateException("transport '" + scheme + "' has no syntax()");
        }
        // Not unavailabilityReason(): it may probe, and is asked only when needed (see there).
        return scheme;
    }

    /**
     * Walks the service's providers one by one so that one broken entry costs only itself. A
     * {@link ServiceLoader} iterator that threw can be asked again: it has moved past the entry.
     *
     * @param listedIn filled with, for each provider found, every jar whose services file lists its
     *                 class: more than one is the same plugin installed twice (two versions of one
     *                 jar), which ServiceLoader would silently load once from whichever comes first
     */
    private static <S> List<ProviderEntry<S>> discover(Class<S> service, ClassLoader loader, Function<S, String> keyOf,
            List<SkippedProvider> skipped, Map<ProviderEntry<?>, List<String>> listedIn) {
        List<ProviderEntry<S>> found = new ArrayList<>();
        // Which jar lists which class name, for entries whose class cannot even be loaded.
        List<Listing> listings = listings(service, loader);
        boolean listingsInStep = true;
        int position = 0;
        int errors = 0;
        Iterator<ServiceLoader.Provider<S>> it = ServiceLoader.load(service, loader).stream().iterator();
        while (true) {
            ServiceLoader.Provider<S> candidate;
            try {
                if (!it.hasNext()) {
                    break;
                }
                candidate = it.next();
            } catch (ServiceConfigurationError | LinkageError e) {
                // The class named by the entry is missing, is not a subtype, has no public no-arg
                // constructor, or needs a class that is missing.
                Listing listing = listingsInStep && position < listings.size() ? listings.get(position) : null;
                position++;
                skip(skipped, service, listing != null ? listing.className() : "(entry of " + service.getName() + ")",
                        listing != null ? listing.location() : "(unknown location)", e);
                if (++errors > MAX_ERRORS) {
                    Logger.error("giving up on {} providers after {} errors", service.getSimpleName(), errors);
                    break;
                }
                continue;
            }
            Class<? extends S> type = candidate.type();
            if (listingsInStep && (position >= listings.size() || !listings.get(position).className().equals(type.getName()))) {
                listingsInStep = false; // e.g. a provider from a named module: positions no longer line up
            }
            position++;
            Optional<Path> location = locationOf(type);
            String locationText = location.map(Path::toString).orElse("(unknown location)");
            try {
                S provider = candidate.get();
                ProviderEntry<S> entry = new ProviderEntry<>(provider, keyOf.apply(provider), location);
                found.add(entry);
                List<String> jars = new ArrayList<>(List.of(locationText));
                listings.stream().filter(l -> l.className().equals(type.getName())).flatMap(l -> l.locations().stream())
                        .filter(l -> !jars.contains(l)).forEach(jars::add);
                listedIn.put(entry, jars);
            } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
                skip(skipped, service, type.getName(), locationText, e);
            }
        }
        found.sort(Comparator.comparing(ProviderEntry::key));
        return found;
    }

    private static void skip(List<SkippedProvider> skipped, Class<?> service, String provider, String location, Throwable e) {
        String reason = messageChain(service, e);
        Logger.warn("skipping {} {} from {}: {}", service.getSimpleName(), provider, location, reason);
        Logger.debug(e, "the skipped provider's error");
        skipped.add(new SkippedProvider(service.getName(), provider, location, reason));
    }

    /** "message: cause's message: ..." with class names where a message is missing. */
    private static String messageChain(Class<?> service, Throwable e) {
        StringBuilder s = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (s.length() > 0) {
                s.append(": ");
            }
            String message = t.getMessage();
            boolean plain = t instanceof ServiceConfigurationError && message != null;
            if (plain && message.startsWith(service.getName() + ": ")) {
                message = message.substring(service.getName().length() + 2); // we already say which service
            }
            s.append(plain ? message : message == null ? t.getClass().getName() : t.getClass().getSimpleName() + " " + message);
        }
        return s.toString();
    }

    /** One id or scheme from two classes, or from one class listed in two jars. */
    private static <S> List<String> duplicates(String what, List<ProviderEntry<S>> entries,
            Map<ProviderEntry<?>, List<String>> listedIn) {
        Map<String, List<String>> byKey = new LinkedHashMap<>();
        for (ProviderEntry<S> e : entries) {
            for (String jar : listedIn.getOrDefault(e, List.of(e.locationText()))) {
                byKey.computeIfAbsent(e.key(), k -> new ArrayList<>()).add(e.provider().getClass().getName() + " in " + jar);
            }
        }
        List<String> problems = new ArrayList<>();
        byKey.forEach((key, sources) -> {
            if (sources.size() > 1) {
                problems.add("the " + what + " '" + key + "' is provided " + sources.size() + " times: "
                        + String.join(" and ", sources));
            }
        });
        return problems;
    }

    private static <S> void checkPick(Optional<String> pick, String property, String what, List<ProviderEntry<S>> entries) {
        if (pick.isPresent() && entries.stream().noneMatch(e -> e.key().equals(pick.get()))) {
            String known = entries.isEmpty() ? "none installed"
                    : "known: " + entries.stream().map(ProviderEntry::key).collect(Collectors.joining(", "));
            throw new RegistryException("-D" + property + "=" + pick.get() + ": no such " + what + "; " + known, true);
        }
    }

    private static String describeArchitectures(List<ProviderEntry<ArchitectureProvider>> entries) {
        if (entries.isEmpty()) {
            return "none";
        }
        return entries.stream().map(a -> a.key() + " (ELF machine " + a.provider().elfMachine() + ")")
                .collect(Collectors.joining(", "));
    }

    /** The jar or directory a class was loaded from, from its protection domain's code source. */
    static Optional<Path> locationOf(Class<?> type) {
        try {
            CodeSource source = type.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null) {
                return Optional.empty();
            }
            return Optional.of(Path.of(source.getLocation().toURI()));
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** One class name in {@code META-INF/services} files, and the jars holding those files (first first). */
    private record Listing(String className, List<String> locations) {
        String location() {
            return locations.get(0);
        }
    }

    /**
     * The provider names in the order ServiceLoader reads them for the class path (the files in
     * {@code getResources} order, each name once), with the jars each one is listed in.
     */
    private static List<Listing> listings(Class<?> service, ClassLoader loader) {
        Map<String, List<String>> names = new LinkedHashMap<>();
        try {
            Enumeration<URL> files = loader.getResources("META-INF/services/" + service.getName());
            for (URL file : Collections.list(files)) {
                String location = serviceFileLocation(file);
                try (InputStream in = file.openStream();
                     BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line; (line = reader.readLine()) != null; ) {
                        int hash = line.indexOf('#');
                        String name = (hash >= 0 ? line.substring(0, hash) : line).strip();
                        if (!name.isEmpty()) {
                            List<String> locations = names.computeIfAbsent(name, n -> new ArrayList<>());
                            if (!locations.contains(location)) {
                                locations.add(location);
                            }
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            Logger.debug(e, "cannot read the {} service files", service.getName());
            return List.of();
        }
        List<Listing> result = new ArrayList<>();
        names.forEach((name, locations) -> result.add(new Listing(name, List.copyOf(locations))));
        return result;
    }

    private static String serviceFileLocation(URL file) {
        try {
            if ("jar".equals(file.getProtocol())) {
                URL jar = ((JarURLConnection) file.openConnection()).getJarFileURL();
                return Path.of(jar.toURI()).toString();
            }
            if ("file".equals(file.getProtocol())) {
                // .../META-INF/services/NAME: the class directory is three levels up.
                return Path.of(file.toURI()).getParent().getParent().getParent().toString();
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            Logger.debug(e, "no location for {}", file);
        }
        return file.toString();
    }
}

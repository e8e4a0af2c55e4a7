package org.kvmgdb.core.registry;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.kvmgdb.api.arch.ArchitectureProvider;

/**
 * Builds real plugin jars for the registry tests: Java sources compiled with the JDK's compiler
 * against gdb-api, packed with their {@code META-INF/services} files. The classes exist only in
 * these jars, so a class loader over them reports the jar as each provider's location, as it
 * would for a jar in {@code lib/}.
 */
final class PluginJars {
    private final Path classes;
    private final Path jars;

    private PluginJars(Path classes, Path jars) {
        this.classes = classes;
        this.jars = jars;
    }

    /** Compiles {@code sources} (simple class name to source text, all in package {@code testplugins}). */
    static PluginJars compile(Path workDir, Map<String, String> sources) throws IOException, URISyntaxException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertTrue(javac != null, "the registry tests need a JDK (javax.tools compiler), not a JRE");
        Path src = Files.createDirectories(workDir.resolve("src/testplugins"));
        Path classes = Files.createDirectories(workDir.resolve("classes"));
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-cp", apiClassPath(), "--release", "17", "-nowarn"));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path file = src.resolve(e.getKey() + ".java");
            Files.writeString(file, "package testplugins;\n" + e.getValue());
            args.add(file.toString());
        }
        int status = javac.run(null, null, null, args.toArray(String[]::new));
        assertTrue(status == 0, "compiling the test plugins failed (status " + status + ")");
        return new PluginJars(classes, Files.createDirectories(workDir.resolve("jars")));
    }

    private static String apiClassPath() throws URISyntaxException {
        URL api = ArchitectureProvider.class.getProtectionDomain().getCodeSource().getLocation();
        return Path.of(api.toURI()).toString();
    }

    /** A jar builder: {@code jar("a.jar").arch("GoodArch").build()}. */
    Jar jar(String name) {
        return new Jar(jars.resolve(name));
    }

    final class Jar {
        private final Path file;
        private final List<String> classNames = new ArrayList<>();
        private final Map<String, List<String>> services = new LinkedHashMap<>();

        private Jar(Path file) {
            this.file = file;
        }

        /** Packs class {@code simpleName} and lists it as an architecture provider. */
        Jar arch(String simpleName) {
            return klass(simpleName).listAs("org.kvmgdb.api.arch.ArchitectureProvider", simpleName);
        }

        /** Packs class {@code simpleName} and lists it as a transport provider. */
        Jar transport(String simpleName) {
            return klass(simpleName).listAs("org.kvmgdb.api.transport.TransportProvider", simpleName);
        }

        /** Packs a class without listing it (a helper the provider needs). */
        Jar klass(String simpleName) {
            classNames.add(simpleName);
            return this;
        }

        /** Adds a services line without packing the class (a listed class that is missing). */
        Jar listAs(String service, String simpleName) {
            services.computeIfAbsent(service, s -> new ArrayList<>()).add("testplugins." + simpleName);
            return this;
        }

        Path build() throws IOException {
            try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out)) {
                for (String name : classNames) {
                    // The class and its nested/anonymous classes (Name$1.class, ...).
                    try (var files = Files.list(classes.resolve("testplugins"))) {
                        for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                            String file = f.getFileName().toString();
                            if (file.equals(name + ".class") || file.startsWith(name + "$")) {
                                jar.putNextEntry(new JarEntry("testplugins/" + file));
                                jar.write(Files.readAllBytes(f));
                                jar.closeEntry();
                            }
                        }
                    }
                }
                for (Map.Entry<String, List<String>> e : services.entrySet()) {
                    jar.putNextEntry(new JarEntry("META-INF/services/" + e.getKey()));
                    jar.write(("# test plugin\n" + String.join("\n", e.getValue()) + "\n").getBytes(StandardCharsets.UTF_8));
                    jar.closeEntry();
                }
            }
            return file;
        }
    }

    /**
     * A class loader over {@code jars} only: its parent supplies gdb-api's classes but hides every
     * {@code META-INF/services} file of the test class path, so exactly the jars' providers are seen.
     */
    static URLClassLoader loaderOver(Path... jars) throws IOException {
        URL[] urls = new URL[jars.length];
        for (int i = 0; i < jars.length; i++) {
            urls[i] = jars[i].toUri().toURL();
        }
        ClassLoader apiOnly = new ClassLoader(PluginJars.class.getClassLoader()) {
            @Override
            public Enumeration<URL> getResources(String name) throws IOException {
                return name.startsWith("META-INF/services/") ? Collections.emptyEnumeration() : super.getResources(name);
            }
        };
        return new URLClassLoader(urls, apiOnly);
    }
}

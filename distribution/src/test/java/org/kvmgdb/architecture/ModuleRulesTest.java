package org.kvmgdb.architecture;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** kvmgdb's production classes, from every module jar on this module's class path, obey {@link ModuleRules}. */
class ModuleRulesTest {
    /** One package per module: the import must see classes from each, or the rules prove nothing. */
    static final List<String> MODULE_PACKAGES = List.of("org.kvmgdb.api", "org.kvmgdb.core", "org.kvmgdb.arch.x86",
            "org.kvmgdb.arch.aarch64", "org.kvmgdb.transport.tcp", "org.kvmgdb.transport.unix", "org.kvmgdb.transport.stdio", "org.kvmgdb.launcher");

    static JavaClasses production;

    /** Leaves out test classes: test-classes directories and the modules' -tests.jar test-jars. */
    static final class ProductionOnly implements ImportOption {
        private static final Pattern TEST_JAR = Pattern.compile(".*-tests\\.jar.*");

        @Override
        public boolean includes(Location location) {
            return !location.contains("/test-classes/") && !location.matches(TEST_JAR);
        }
    }

    @BeforeAll
    static void importProductionClasses() {
        production = new ClassFileImporter().withImportOption(new ProductionOnly()).importPackages("org.kvmgdb");
    }

    @Test
    void theImportSeesClassesFromEveryModule() {
        List<String> missing = missingModules(production, MODULE_PACKAGES);
        assertTrue(missing.isEmpty(), "the ArchUnit import found no classes in " + missing
                + " (imported " + production.size() + " classes): the rules below would check nothing there");
    }

    @Test
    void theImportLeavesOutTestClassesAndFixtures() {
        assertTrue(production.stream().noneMatch(c -> c.getPackageName().startsWith("org.kvmgdb.archfixture")
                || c.getPackageName().startsWith("org.kvmgdb.architecture")), "test classes were imported");
    }

    @TestFactory
    List<DynamicTest> kvmgdbObeysEveryRule() {
        return ModuleRules.all("org.kvmgdb").stream()
                .map(rule -> DynamicTest.dynamicTest(rule.getDescription(), () -> rule.check(production)))
                .collect(Collectors.toList());
    }

    /** The guard itself fails on an import that found nothing. */
    @Test
    void theGuardFailsWhenTheImportFoundNothing() {
        JavaClasses nothing = new ClassFileImporter().importPackages("org.kvmgdb.no.such.package");
        assertTrue(missingModules(nothing, MODULE_PACKAGES).size() == MODULE_PACKAGES.size());
        // And a rule over nothing is an error too (ArchUnit's failOnEmptyShould), not a silent pass.
        ArchRule rule = ModuleRules.apiDependsOnlyOnTheJdk("org.kvmgdb.no.such.package");
        assertTrue(assertFails(() -> rule.check(nothing)).contains("failed to check any classes"));
    }

    static List<String> missingModules(JavaClasses classes, List<String> packages) {
        return packages.stream()
                .filter(p -> classes.stream().noneMatch(c -> c.getPackageName().equals(p) || c.getPackageName().startsWith(p + ".")))
                .collect(Collectors.toList());
    }

    static String assertFails(Runnable check) {
        try {
            check.run();
        } catch (AssertionError e) {
            return e.getMessage();
        }
        throw new AssertionError("expected the rule to fail");
    }
}

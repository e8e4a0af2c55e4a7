package org.kvmgdb.architecture;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Each rule of {@link ModuleRules}, applied to a fixture package root that breaks it on purpose,
 * reports the violation; applied to a fixture that keeps every boundary, reports none.
 */
class ModuleRulesFixtureTest {
    private static final String FIXTURES = "org.kvmgdb.archfixture";

    /** Every fixture, imported once (each import scans the class path). */
    private static final JavaClasses ALL = new ClassFileImporter().importPackages(FIXTURES);

    private static JavaClasses fixture(String name) {
        return ALL.that(JavaClass.Predicates.resideInAPackage(FIXTURES + "." + name + ".."));
    }

    private static void assertViolation(Function<String, ArchRule> rule, String fixture, String offender, String target) {
        String root = FIXTURES + "." + fixture;
        EvaluationResult result = rule.apply(root).evaluate(fixture(fixture));
        assertTrue(result.hasViolation(), rule.apply(root).getDescription() + " missed the violation in " + root);
        String report = result.getFailureReport().toString();
        assertTrue(report.contains(root + "." + offender) && report.contains(target), report);
    }

    @Test
    void apiDependingOnCoreIsCaught() {
        assertViolation(ModuleRules::apiDependsOnlyOnTheJdk, "apileak", "api.LeakyProvider", "core.Vmm");
    }

    @Test
    void apiDependingOnALibraryIsCaught() {
        assertViolation(ModuleRules::apiDependsOnlyOnTheJdk, "apileak", "api.LoggingApi", "org.tinylog.Logger");
    }

    @Test
    void anArchitectureUsingCoreIsCaught() {
        assertViolation(ModuleRules::pluginsNeverDependOnCore, "archcore", "arch.mips.MipsArch", "core.Vmm");
    }

    @Test
    void aTransportUsingCoreIsCaught() {
        assertViolation(ModuleRules::pluginsNeverDependOnCore, "archcore", "transport.serial.SerialTransport", "core.Vmm");
    }

    @Test
    void aPackageCycleIsCaught() {
        assertViolation(ModuleRules::noPackageCycles, "cycle", "core.session.Session", "core.kvm.Vcpu");
    }

    @Test
    void jnaOutsideCoreIsCaught() {
        assertViolation(ModuleRules::jnaOnlyInCore, "jna", "transport.serial.SerialPort", "com.sun.jna.Native");
    }

    /** The same rules pass on a fixture that keeps every boundary: they do not simply fail on anything. */
    @TestFactory
    List<DynamicTest> aCleanFixtureObeysEveryRule() {
        String root = FIXTURES + ".clean";
        JavaClasses clean = fixture("clean");
        assertFalse(clean.isEmpty(), "the clean fixture was not imported");
        return ModuleRules.all(root).stream()
                .map(rule -> DynamicTest.dynamicTest(rule.getDescription(), () -> rule.check(clean)))
                .collect(java.util.stream.Collectors.toList());
    }
}

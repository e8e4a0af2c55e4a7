package org.kvmgdb.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.util.List;

/**
 * The module boundaries of DESIGN.md as ArchUnit rules, each a function of the package root, so
 * the very same rules run on kvmgdb ({@code org.kvmgdb}) and on the violating fixtures under
 * {@code org.kvmgdb.archfixture.*} that prove each rule can fail.
 */
final class ModuleRules {
    private ModuleRules() {
    }

    /** gdb-api holds the SPIs and depends on nothing but the JDK. */
    static ArchRule apiDependsOnlyOnTheJdk(String root) {
        return ArchRuleDefinition.classes().that().resideInAPackage(root + ".api..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", root + ".api..")
                .as("gdb-api (" + root + ".api..) depends on nothing but java.*");
    }

    /** Architecture and transport plugins reach the hypervisor only through gdb-api, never gdb-core or the launcher. */
    static ArchRule pluginsNeverDependOnCore(String root) {
        return noClasses().that().resideInAnyPackage(root + ".arch..", root + ".transport..")
                .should().dependOnClassesThat().resideInAnyPackage(root + ".core..", root + ".launcher..")
                .as("arch and transport plugins never depend on " + root + ".core.. (or the launcher)");
    }

    /** No cycle between any two of kvmgdb's packages. */
    static ArchRule noPackageCycles(String root) {
        return slices().matching(root + ".(**)").should().beFreeOfCycles()
                .as("no package cycles under " + root);
    }

    /** JNA (the native KVM calls) is gdb-core's business alone. */
    static ArchRule jnaOnlyInCore(String root) {
        return noClasses().that().resideInAPackage(root + "..").and().resideOutsideOfPackage(root + ".core..")
                .should().dependOnClassesThat().resideInAPackage("com.sun.jna..")
                .as("JNA (com.sun.jna..) is used only in " + root + ".core..");
    }

    static List<ArchRule> all(String root) {
        return List.of(apiDependsOnlyOnTheJdk(root), pluginsNeverDependOnCore(root), noPackageCycles(root), jnaOnlyInCore(root));
    }
}

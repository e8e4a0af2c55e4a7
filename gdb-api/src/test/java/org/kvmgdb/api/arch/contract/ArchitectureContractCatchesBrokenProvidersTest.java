package org.kvmgdb.api.arch.contract;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.TypeDefinition;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.opentest4j.AssertionFailedError;

/** Each contract check shown failing on a provider that breaks exactly the rule it checks. */
class ArchitectureContractCatchesBrokenProvidersTest {

    private static final byte[] ONE_BYTE = {(byte) 0xCC};

    /** A contract over a description and optional overrides, for one broken provider at a time. */
    private static final class Fixture extends ArchitectureContract {
        private final TargetDescription description;
        private SoftwareBreakpoint breakpoint = kind -> kind == 1 ? ONE_BYTE.clone() : null;
        private RegisterAccess access;

        Fixture(TargetDescription description) {
            this.description = description;
        }

        @Override
        protected ArchitectureProvider provider() {
            return new ArchitectureProvider() {
                @Override
                public String id() {
                    return "fixture";
                }

                @Override
                public int elfMachine() {
                    return 62;
                }

                @Override
                public TargetDescription targetDescription() {
                    return description;
                }

                @Override
                public SoftwareBreakpoint softwareBreakpoint() {
                    return breakpoint;
                }

                @Override
                public Optional<RegisterAccess> registerAccess() {
                    return Optional.ofNullable(access);
                }
            };
        }

        @Override
        protected String gdbBinary() {
            return "/usr/bin/gdb";
        }

        @Override
        protected int defaultBreakpointKind() {
            return 1;
        }

        @Override
        protected Optional<VcpuHandle> kernelLikeVcpu() {
            return Optional.of(new KernelLikeVcpu(0));
        }
    }

    private static TargetDescription oneFeature(String featureName, List<TypeDefinition> types, RegisterDescriptor... regs) {
        return new TargetDescription("i386:x86-64", null, List.of(new Feature(featureName, types, List.of(regs))));
    }

    private static RegisterDescriptor reg(String name, int bits, String type, int regnum) {
        return new RegisterDescriptor(name, bits, type, null, regnum);
    }

    @Test
    void aRegisterOfAnUndefinedTypeFails() {
        Fixture f = new Fixture(oneFeature("org.gnu.gdb.i386.core", List.of(), reg("rip", 64, "no_such_type", 0)));
        assertThrows(AssertionFailedError.class, f::everyRegisterTypeIsPredefinedOrDefinedInItsFeature);
    }

    @Test
    void aFeatureNotNamedAsGdbNamesItFails() {
        Fixture f = new Fixture(oneFeature("com.example.core", List.of(), reg("rip", 64, "code_ptr", 0)));
        assertThrows(AssertionFailedError.class, f::featureNamesFollowGdb);
    }

    @Test
    void aUnionUsingATypeDefinedAfterItFails() {
        List<TypeDefinition> types = List.of(
                new TypeDefinition.Union("u", List.of(new TypeDefinition.Field("f", "v4f"))),
                new TypeDefinition.Vector("v4f", "ieee_single", 4));
        Fixture f = new Fixture(oneFeature("org.gnu.gdb.i386.sse", types, reg("xmm0", 128, "u", 0)));
        assertThrows(AssertionFailedError.class, f::typeDefinitionsReferOnlyToTypesDefinedBeforeThem);
    }

    @Test
    void aFlagsRegisterNarrowerThanItsTypeFails() {
        List<TypeDefinition> types = List.of(new TypeDefinition.Flags("fl", 4, List.of(TypeDefinition.BitField.bit("CF", 0))));
        Fixture f = new Fixture(oneFeature("org.gnu.gdb.i386.core", types, reg("eflags", 16, "fl", 0)));
        assertThrows(AssertionFailedError.class, f::everyRegisterTypeIsPredefinedOrDefinedInItsFeature);
    }

    @Test
    void aBreakpointArraySharedWithTheCallerFails() {
        Fixture f = new Fixture(oneFeature("org.gnu.gdb.i386.core", List.of(), reg("rip", 64, "code_ptr", 0)));
        byte[] shared = {(byte) 0xCC};
        f.breakpoint = kind -> kind == 1 ? shared : null;
        assertThrows(AssertionFailedError.class, f::softwareBreakpointForTheDefaultKindIsAnInstruction);
    }

    @Test
    void registerAccessThatKeepsTheLastGInsteadOfUsingTheVcpuFails() {
        Fixture f = new Fixture(oneFeature("org.gnu.gdb.i386.core", List.of(), reg("rax", 64, "int64", 0), reg("rip", 64, "code_ptr", 1)));
        f.access = new RegisterAccess() {
            private byte[] last = new byte[16];

            @Override
            public byte[] readAll(VcpuHandle vcpu) {
                return last.clone();
            }

            @Override
            public void writeAll(VcpuHandle vcpu, byte[] g) {
                last = g.clone();
            }

            @Override
            public long programCounter(VcpuHandle vcpu) {
                return 0;
            }

            @Override
            public void setProgramCounter(VcpuHandle vcpu, long pc) {
            }
        };
        assertThrows(AssertionFailedError.class, f::gThenGRoundTripsThroughTheKernel);
        assertThrows(AssertionFailedError.class, f::programCounterIsTheRegisterGdbSees);
    }

    @Test
    void aDescriptionGdbRejectsFails(@TempDir Path dir) {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gdb")), "gdb not installed");
        // i386:x86-64 without rip: GDB's amd64 code refuses it ("Architecture rejected target-supplied description").
        Fixture f = new Fixture(oneFeature("org.gnu.gdb.i386.core", List.of(), reg("rax", 64, "int64", 0), reg("pc", 64, "code_ptr", 1)));
        assertThrows(AssertionFailedError.class, () -> f.gdbAcceptsTheTargetDescriptionAndComputesTheSameLayout(dir));
    }
}

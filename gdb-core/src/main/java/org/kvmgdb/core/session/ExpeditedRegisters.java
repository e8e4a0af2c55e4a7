package org.kvmgdb.core.session;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.TargetException;
import org.tinylog.Logger;

/**
 * The registers a stop reply carries, so gdb need not send {@code g} after every stop: what it reads
 * first to show where the thread stopped and to unwind the innermost frame. Chosen from the target
 * description alone, so every architecture gets them without saying anything: the program counter
 * (type {@code code_ptr}) and the stack and frame pointers (type {@code data_ptr}, named as GDB's
 * features name them: {@code rsp}/{@code rbp} on x86-64, {@code sp} on AArch64, {@code esp}/{@code ebp}
 * on i386, {@code fp} where a description has it).
 */
final class ExpeditedRegisters {
    private static final Set<String> STACK_AND_FRAME_POINTERS = Set.of("sp", "rsp", "esp", "fp", "rbp", "ebp");

    private final DebugTarget target;
    private final List<Integer> regnums;
    /** {@link #regnums} as the array {@link DebugTarget#readRegisters(int, int[])} takes, made once: this runs at every stop. */
    private final int[] wanted;

    ExpeditedRegisters(DebugTarget target) {
        this.target = target;
        this.regnums = choose(target.description());
        this.wanted = regnums.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The regnums to expedite, in regnum order. */
    static List<Integer> choose(TargetDescription description) {
        return description.registers().stream()
                .filter(r -> r.type().equals("code_ptr")
                        || (r.type().equals("data_ptr") && STACK_AND_FRAME_POINTERS.contains(r.name())))
                .map(RegisterDescriptor::regnum)
                .collect(Collectors.toList());
    }

    List<Integer> regnums() {
        return regnums;
    }

    /**
     * The values of {@code thread}'s expedited registers. One that cannot be read is left out (gdb
     * then asks for it); a stop reply never fails for it.
     */
    Map<Integer, byte[]> read(int thread) {
        Map<Integer, byte[]> values = new LinkedHashMap<>();
        try {
            // One fetch for all of them (on x86: one KVM_GET_REGS per stop, not one per register).
            byte[][] read = target.readRegisters(thread, wanted);
            for (int i = 0; i < wanted.length; i++) {
                values.put(wanted[i], read[i]);
            }
            return values;
        } catch (TargetException | RuntimeException e) {
            Logger.debug("expedited registers of thread {} not read together ({}); reading them one by one", thread, e.getMessage());
        }
        for (int regnum : regnums) {
            try {
                values.put(regnum, target.readRegister(thread, regnum));
            } catch (TargetException | RuntimeException e) {
                Logger.debug("not expediting register {} of thread {}: {}", regnum, thread, e.getMessage());
            }
        }
        return values;
    }
}

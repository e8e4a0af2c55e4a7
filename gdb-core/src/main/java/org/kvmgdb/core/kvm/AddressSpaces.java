package org.kvmgdb.core.kvm;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.AddressTranslator.PagingState;
import org.kvmgdb.api.arch.AddressTranslator.Translation;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.tinylog.Logger;

/**
 * Virtual memory as gdb's selected vCPU sees it, for one memory request. An address its page tables
 * do not map is tried in the other vCPUs' page tables too, but only a kernel address: with KPTI
 * (page-table isolation) a vCPU that stopped in user mode runs on tables that map almost none of
 * the kernel, while the kernel half is the same in every address space that does map it, so another
 * vCPU's tables give the same bytes. A user address is never taken from another vCPU: that would
 * be another process's memory.
 *
 * <p>"Kernel address" is the upper half of the address space (bit 63 set), where x86-64 and
 * AArch64 kernels live. The other vCPUs' paging state is read only when needed, once per request.
 */
final class AddressSpaces {
    private final AddressTranslator translator;
    private final PhysicalMemory memory;
    private final PagingState selected;
    private final List<Supplier<PagingState>> others;
    private final PagingState[] captured;
    private final boolean[] unreadable;
    /** The other vCPU that translated last; tried first, as neighbouring addresses share its tables. */
    private int preferred = -1;

    /**
     * @param selected the selected vCPU's paging state
     * @param others   how to read each other vCPU's paging state (a {@link HypervisorException} skips that vCPU)
     */
    AddressSpaces(AddressTranslator translator, PhysicalMemory memory, PagingState selected, List<Supplier<PagingState>> others) {
        this.translator = translator;
        this.memory = memory;
        this.selected = selected;
        this.others = List.copyOf(others);
        this.captured = new PagingState[others.size()];
        this.unreadable = new boolean[others.size()];
    }

    static boolean kernelAddress(long virtualAddress) {
        return virtualAddress < 0;
    }

    /** Where {@code virtualAddress} lands, or empty when no vCPU that may be asked maps it. */
    Optional<Translation> translate(long virtualAddress) {
        Optional<Translation> t = translate(selected, virtualAddress);
        if (t.isPresent() || !kernelAddress(virtualAddress)) {
            return t;
        }
        if (preferred >= 0) {
            t = translate(state(preferred), virtualAddress);
            if (t.isPresent()) {
                return t;
            }
        }
        for (int i = 0; i < others.size(); i++) {
            if (i == preferred) {
                continue;
            }
            t = translate(state(i), virtualAddress);
            if (t.isPresent()) {
                Logger.debug("0x{} is not mapped for the selected vCPU; translated through another vCPU's page tables",
                        Long.toHexString(virtualAddress));
                preferred = i;
                return t;
            }
        }
        return Optional.empty();
    }

    private PagingState state(int i) {
        if (captured[i] == null && !unreadable[i]) {
            try {
                captured[i] = others.get(i).get();
            } catch (HypervisorException e) {
                Logger.debug("reading another vCPU's paging state failed: {}", e.getMessage());
                unreadable[i] = true;
            }
        }
        return captured[i];
    }

    private Optional<Translation> translate(PagingState state, long virtualAddress) {
        if (state == null) {
            return Optional.empty();
        }
        try {
            return translator.translate(state, memory, virtualAddress);
        } catch (IndexOutOfBoundsException e) {
            return Optional.empty(); // a page table outside RAM: not mapped
        }
    }
}

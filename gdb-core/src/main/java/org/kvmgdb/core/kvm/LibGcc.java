package org.kvmgdb.core.kvm;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * libgcc's {@code __clear_cache(char *begin, char *end)}: on arm64 it cleans the data cache and
 * invalidates the instruction cache over {@code [begin, end)} to the point of unification (DC CVAU,
 * IC IVAU and barriers, honouring CTR_EL0), which is what makes code the host wrote visible to a
 * vCPU's instruction fetch. libgcc_s exports it (GCC_3.0 in libgcc-std.ver). Bound only on an
 * aarch64 host ({@link #AVAILABLE}); elsewhere the class loads nothing.
 */
final class LibGcc {
    /** Whether the host needs (and has) the call: instruction and data caches are coherent on x86. */
    static final boolean AVAILABLE = Platform.isARM() && Platform.is64Bit();

    static {
        if (AVAILABLE) {
            Native.register(LibGcc.class, "gcc_s");
        }
    }

    private LibGcc() {
    }

    /** Direct-mapped; pointers as host addresses. Call only when {@link #AVAILABLE}. */
    static native void __clear_cache(long begin, long end);
}

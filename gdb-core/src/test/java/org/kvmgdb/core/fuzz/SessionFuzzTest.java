package org.kvmgdb.core.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Jazzer over whole sessions ({@link SessionHarness}). In a plain {@code mvn verify} it runs the seeds
 * in {@code SessionFuzzTestInputs/session} (real gdb sessions, and inputs that once broke an
 * invariant) as regression tests; with {@code JAZZER_FUZZ=1} it fuzzes, coverage-guided, until stopped
 * or {@code maxDuration} (README, Tests).
 */
class SessionFuzzTest {
    @FuzzTest(maxDuration = "12h")
    void session(byte[] input) {
        SessionHarness.check(input);
    }
}

package org.kvmgdb.core.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Jazzer over the packet decoder ({@link DecoderHarness}). In a plain {@code mvn verify} it runs the
 * seeds in {@code PacketDecoderFuzzTestInputs/decoder} (real gdb sessions) as regression tests; with
 * {@code JAZZER_FUZZ=1} it fuzzes, coverage-guided, until stopped or {@code maxDuration} (README, Tests).
 */
class PacketDecoderFuzzTest {
    @FuzzTest(maxDuration = "12h")
    void decoder(byte[] input) {
        DecoderHarness.check(input);
    }
}

package org.kvmgdb.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The seeded mutation engine ({@link Mutator}) over both harnesses: the seeds from real gdb sessions,
 * then mutated inputs, the same ones on every run for one seed. {@code mvn verify} runs a few
 * seconds' worth; for longer runs (README, Tests):
 * <ul>
 *   <li>{@code -Dkvmgdb.fuzz.iterations=N}: inputs per harness (default {@value #DEFAULT_SESSION_ITERATIONS}
 *       sessions, {@value #DEFAULT_DECODER_ITERATIONS} decoder inputs);</li>
 *   <li>{@code -Dkvmgdb.fuzz.seconds=S}: run for S seconds per harness instead of a count;</li>
 *   <li>{@code -Dkvmgdb.fuzz.seed=N}: another seed (default {@value #DEFAULT_SEED}).</li>
 * </ul>
 * An input that breaks an invariant is written to {@code target/fuzz-failures/} and named in the
 * failure; committed under the {@code …FuzzTestInputs} seed folders it becomes a regression test.
 */
class SeededFuzzTest {
    static final long DEFAULT_SEED = 20261122;
    static final int DEFAULT_SESSION_ITERATIONS = 500;
    static final int DEFAULT_DECODER_ITERATIONS = 4000;

    @Test
    void decoderKeepsItsInvariantsOnMutatedStreams() {
        run("decoder", seeds("PacketDecoderFuzzTestInputs/decoder"), DEFAULT_DECODER_ITERATIONS, DecoderHarness::check);
    }

    @Test
    void sessionsKeepTheirInvariantsOnMutatedStreams() {
        SessionHarness.Counts counts = SessionHarness.COUNTS;
        long before = counts.sessions;
        run("session", seeds("SessionFuzzTestInputs/session"), DEFAULT_SESSION_ITERATIONS, SessionHarness::check);
        System.out.println("session fuzzing: " + counts);
        // The inputs reached what the invariants are about; otherwise passing would prove nothing.
        assertTrue(counts.sessions > before, "no session ran");
        assertTrue(counts.writesApplied > 0, "no write was accepted: " + counts);
        assertTrue(counts.readsChecked > 0, "no read was checked: " + counts);
        assertTrue(counts.endedWithBreakpointsPlanted > 0, "no session ended with breakpoints planted: " + counts);
        assertTrue(counts.detached > 0, "no session detached: " + counts);
    }

    private static void run(String name, List<byte[]> seeds, int defaultIterations, Consumer<byte[]> harness) {
        assertFalse(seeds.isEmpty(), "no seed files for " + name);
        for (byte[] seed : seeds) {
            check(name, seed, harness);
        }
        long seed = Long.getLong("kvmgdb.fuzz.seed", DEFAULT_SEED);
        Mutator mutator = new Mutator(seed, seeds, SessionHarness.MEMORY_BASE, SessionHarness.MEMORY_SIZE);
        Long seconds = Long.getLong("kvmgdb.fuzz.seconds");
        long deadline = seconds == null ? Long.MAX_VALUE : System.nanoTime() + seconds * 1_000_000_000L;
        int iterations = seconds == null ? Integer.getInteger("kvmgdb.fuzz.iterations", defaultIterations) : Integer.MAX_VALUE;
        long started = System.nanoTime();
        int i = 0;
        for (; i < iterations && System.nanoTime() < deadline; i++) {
            check(name, mutator.next(), harness);
        }
        System.out.printf("%s fuzzing: %d seeds and %d mutated inputs (seed %d) in %d ms%n", name, seeds.size(), i, seed,
                (System.nanoTime() - started) / 1_000_000);
    }

    private static void check(String name, byte[] input, Consumer<byte[]> harness) {
        try {
            harness.accept(input);
        } catch (AssertionError | RuntimeException e) {
            Path saved = save(name, input);
            throw new AssertionError(name + " input " + saved + " (" + Wire.printable(input) + "): " + e.getMessage(), e);
        }
    }

    private static Path save(String name, byte[] input) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "fuzz-failures"));
            Path file = dir.resolve(name + "-" + Integer.toHexString(java.util.Arrays.hashCode(input)));
            Files.write(file, input);
            return file.toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The seed files of one Jazzer fuzz test, sorted by name so the order does not depend on the file system. */
    static List<byte[]> seeds(String folder) {
        URL url = SeededFuzzTest.class.getResource(folder);
        if (url == null) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            List<byte[]> seeds = new ArrayList<>();
            for (Path file : files.sorted().toList()) {
                seeds.add(Files.readAllBytes(file));
            }
            return seeds;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}

package org.kvmgdb.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * What a debugger process ({@link GdbBatch}, {@link LldbBatch}) prints on its output (stderr merged
 * into it), collected on a daemon thread as it comes, so the process never blocks on a full pipe
 * and a test can wait for a line while it runs.
 */
final class ProcessOutput {
    private final String program;
    private final StringBuilder output = new StringBuilder();
    private final Thread reader;

    /** Starts reading {@code process}'s output; {@code program} names it in messages. */
    ProcessOutput(Process process, String program) {
        this.program = program;
        this.reader = new Thread(() -> collect(process), program + " output " + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    private void collect(Process process) {
        byte[] buffer = new byte[8192];
        try (InputStream in = process.getInputStream()) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                synchronized (output) {
                    output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    output.notifyAll();
                }
            }
        } catch (IOException e) {
            synchronized (output) {
                output.append("\n[reading ").append(program).append("'s output failed: ").append(e).append("]\n");
            }
        } finally {
            synchronized (output) {
                output.notifyAll();
            }
        }
    }

    /** Everything read so far. */
    String text() {
        synchronized (output) {
            return output.toString();
        }
    }

    /** Waits for the end of the output (the process has exited and closed it). */
    void join() throws InterruptedException {
        reader.join();
    }

    /** The same, giving up after {@code millis}: for a process that was just killed. */
    void join(long millis) throws InterruptedException {
        reader.join(millis);
    }

    /**
     * Waits until the output has a match of {@code regex}; fails with the output if it ends first
     * or nothing matches within {@code timeout} (a hang guard).
     */
    void await(String regex, Duration timeout) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex, Pattern.MULTILINE);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (output) {
            while (!pattern.matcher(output).find()) {
                if (!reader.isAlive()) {
                    throw new AssertionError(program + " ended before printing /" + regex + "/:\n" + output);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(program + " did not print /" + regex + "/:\n" + output);
                }
                TimeUnit.NANOSECONDS.timedWait(output, left);
            }
        }
    }
}

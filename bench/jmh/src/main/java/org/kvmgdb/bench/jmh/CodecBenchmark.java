package org.kvmgdb.bench.jmh;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.kvmgdb.core.protocol.Command;
import org.kvmgdb.core.protocol.FrameBuffer;
import org.kvmgdb.core.protocol.Framing;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.protocol.PacketDecoder;
import org.kvmgdb.core.protocol.PacketParser;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.protocol.WireEvent;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The packet codec on the paths every round trip takes (issue 7): an {@code m} reply's hex and frame
 * (64 bytes is the stack read after each {@code stepi}, 8 KiB one request of a memory dump at the
 * former PacketSize 0x4000), and decoding plus parsing the {@code m} request. {@code -prof gc}
 * shows the bytes allocated per operation; {@code frameHex} is meant to allocate none, {@code stringHexThenFrame} is the way replies
 * were built before (hex String, bytes, framed copy), kept for comparison. 128 KiB is one request of
 * a dump at PacketSize 0x40000; {@code data} is random bytes (no runs) or zeros (one run).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class CodecBenchmark {
    @Param({"64", "8192", "131072"})
    int bytes;

    @Param({"random", "zeros"})
    String data;

    private byte[] memory;
    private final FrameBuffer frame = new FrameBuffer(256);
    private final byte[] request = "$m7ffffc0,40#5f".getBytes(StandardCharsets.US_ASCII);
    private final PacketDecoder decoder = new PacketDecoder(0x4000);
    private final Command[] parsed = new Command[1];

    @Setup
    public void setUp() {
        memory = new byte[bytes];
        if (data.equals("random")) {
            new Random(7).nextBytes(memory);
        }
    }

    /** The reply as it is built now: hex digits straight into a reused frame buffer. */
    @Benchmark
    public int frameHex() {
        return frame.frameHex(memory, 0, memory.length).length();
    }

    /** The reply as it was built before: a hex String, its bytes, a framed copy. */
    @Benchmark
    public byte[] stringHexThenFrame() {
        return Framing.frame(Replies.ascii(Hex.encode(memory)));
    }

    /** gdb's {@code m} request from the wire: decoded from its frame and parsed. */
    @Benchmark
    public void decodeAndParseM(Blackhole hole) {
        decoder.feed(request, 0, request.length, e -> parsed[0] = PacketParser.parse(((WireEvent.Packet) e).payload()));
        hole.consume(parsed[0]);
    }
}

package org.kvmgdb.core.protocol;

/**
 * LLDB's extensions to the protocol that a session with LLDB uses (LLDB's "GDB Remote Protocol
 * Extensions", lldb/docs/resources/lldbgdbremote.md, formerly lldb-gdb-remote.txt):
 * <ul>
 *   <li>{@code qHostInfo}: the debugged machine's triple, byte order and pointer size;</li>
 *   <li>{@code qProcessInfo}: the same for the process, with its pid;</li>
 *   <li>{@code QListThreadsInStopReply}: every {@code T} stop reply lists the threads
 *       ({@code threads:1,2;}), which saves LLDB a {@code qfThreadInfo} after each stop;</li>
 *   <li>{@code qThreadStopInfoTID}: the stop reply of one thread, which LLDB asks for the threads
 *       that did not cause the stop.</li>
 * </ul>
 * The other packets LLDB sends ({@code QThreadSuffixSupported}, {@code jThreadsInfo},
 * {@code qStructuredDataPlugins}, {@code x}, ...) stay {@link Command.Unknown}: the empty reply
 * tells LLDB they are not supported, and it falls back to the GDB packets.
 */
public final class LldbPackets {
    private LldbPackets() {
    }

    /** The packets of this family. */
    public sealed interface Packet extends Command permits HostInfo, ProcessInfo, ListThreadsInStopReply, ThreadStopInfo {
    }

    /** {@code qHostInfo}. */
    public record HostInfo() implements Packet {
    }

    /** {@code qProcessInfo}: about the process being debugged (LLDB's {@code qProcessInfoPID:N} is another packet). */
    public record ProcessInfo() implements Packet {
    }

    /** {@code QListThreadsInStopReply}. */
    public record ListThreadsInStopReply() implements Packet {
    }

    /** {@code qThreadStopInfoTID}: {@code thread} in hex right after the name, with no separator. */
    public record ThreadStopInfo(long thread) implements Packet {
    }

    private static final String THREAD_STOP_INFO = "qThreadStopInfo";

    static boolean isLldbPacket(String name) {
        return name.equals("qHostInfo") || name.equals("qProcessInfo") || name.equals("QListThreadsInStopReply")
                || name.startsWith(THREAD_STOP_INFO);
    }

    /** Parses a packet whose query name ({@link QueryPackets#name}) is one of this family's; none takes arguments. */
    static Command parse(String text, String name) {
        if (name.startsWith(THREAD_STOP_INFO) && text.equals(name)) {
            try {
                return new ThreadStopInfo(Hex.parseUnsigned(text.substring(THREAD_STOP_INFO.length())));
            } catch (MalformedPacketException e) {
                return new Command.Malformed(PacketText.shorten(text), THREAD_STOP_INFO + ": " + e.getMessage());
            }
        }
        if (!text.equals(name)) {
            return new Command.Unknown(name);
        }
        switch (name) {
            case "qHostInfo":
                return new HostInfo();
            case "qProcessInfo":
                return new ProcessInfo();
            case "QListThreadsInStopReply":
                return new ListThreadsInStopReply();
            default:
                return new Command.Unknown(name);
        }
    }
}

package org.kvmgdb.core.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/** {@code c [addr]}, {@code C sig[;addr]}, {@code s [addr]}, {@code S sig[;addr]}, {@code vCont?}, {@code vCont;...}. */
public final class ResumePackets {
    private ResumePackets() {
    }

    /** {@code c}/{@code C}: {@code signal} 0 when none; {@code address} is where to resume, if given. */
    public record Continue(int signal, OptionalLong address) implements Command {
    }

    /** {@code s}/{@code S}. */
    public record Step(int signal, OptionalLong address) implements Command {
    }

    /** {@code vCont?}: which actions we support. */
    public record VContQuery() implements Command {
    }

    /** {@code vCont;action[:thread]...}: for each thread the leftmost action naming it (or naming all) applies. */
    public record VCont(List<Action> actions) implements Command {
        public VCont {
            actions = List.copyOf(actions);
        }
    }

    /**
     * One {@code vCont} action.
     *
     * @param thread the thread it applies to, or null when it names no thread (every thread not named before)
     * @param start  for {@link Kind#RANGE_STEP}: the range {@code [start, end)}
     */
    public record Action(Kind kind, int signal, long start, long end, ThreadPackets.ThreadId thread) {
    }

    public enum Kind {
        /** {@code c}, {@code C sig} */
        CONTINUE,
        /** {@code s}, {@code S sig} */
        STEP,
        /** {@code r start,end} */
        RANGE_STEP,
        /** {@code t}: stop (non-stop mode only) */
        STOP
    }

    public static Command parse(byte[] payload) {
        String text = PacketText.of(payload);
        try {
            char op = text.charAt(0);
            String rest = text.substring(1);
            int signal = 0;
            if (op == 'C' || op == 'S') {
                int semicolon = rest.indexOf(';');
                String sig = semicolon < 0 ? rest : rest.substring(0, semicolon);
                signal = signal(sig);
                rest = semicolon < 0 ? "" : rest.substring(semicolon + 1);
                if (semicolon >= 0 && rest.isEmpty()) {
                    throw new MalformedPacketException(op + ": address expected after ';'");
                }
            }
            OptionalLong address = rest.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Hex.parseUnsigned(rest));
            return op == 'c' || op == 'C' ? new Continue(signal, address) : new Step(signal, address);
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), e.getMessage());
        }
    }

    /** {@code vCont?} and {@code vCont;...}; other {@code v} packets are not resume packets. */
    static Command parseVCont(String text) {
        if (text.equals("vCont?")) {
            return new VContQuery();
        }
        try {
            if (!text.startsWith("vCont;")) {
                throw new MalformedPacketException("vCont: ';' expected");
            }
            List<Action> actions = new ArrayList<>();
            for (String item : text.substring("vCont;".length()).split(";", -1)) {
                actions.add(action(item));
            }
            return new VCont(actions);
        } catch (MalformedPacketException e) {
            return new Command.Malformed(PacketText.shorten(text), e.getMessage());
        }
    }

    private static Action action(String item) throws MalformedPacketException {
        if (item.isEmpty()) {
            throw new MalformedPacketException("vCont: empty action");
        }
        ThreadPackets.ThreadId thread = null;
        int colon = item.indexOf(':');
        String body = item;
        if (colon >= 0) {
            thread = ThreadPackets.ThreadId.parse(item.substring(colon + 1));
            body = item.substring(0, colon);
            if (thread.isAll()) {
                thread = null; // ":-1" names every thread, like no thread at all
            }
        }
        if (body.isEmpty()) {
            throw new MalformedPacketException("vCont: thread " + item.substring(colon + 1) + " without an action");
        }
        char op = body.charAt(0);
        String args = body.substring(1);
        switch (op) {
            case 'c':
            case 's':
            case 't':
                if (!args.isEmpty()) {
                    throw new MalformedPacketException("vCont: action " + op + " takes no argument");
                }
                return new Action(op == 'c' ? Kind.CONTINUE : op == 's' ? Kind.STEP : Kind.STOP, 0, 0, 0, thread);
            case 'C':
            case 'S':
                return new Action(op == 'C' ? Kind.CONTINUE : Kind.STEP, signal(args), 0, 0, thread);
            case 'r': {
                String[] range = PacketText.pair(args, ',', "vCont;r");
                return new Action(Kind.RANGE_STEP, 0, Hex.parseUnsigned(range[0]), Hex.parseUnsigned(range[1]), thread);
            }
            default:
                throw new MalformedPacketException("vCont: unknown action '" + op + "'");
        }
    }

    private static int signal(String hex) throws MalformedPacketException {
        int signal = Hex.parseInt(hex);
        if (signal > 0xff) {
            throw new MalformedPacketException("signal out of range: " + hex);
        }
        return signal;
    }
}

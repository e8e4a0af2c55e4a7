package org.kvmgdb.core.session;

import org.kvmgdb.core.protocol.BreakpointPackets.InsertBreakpoint;
import org.kvmgdb.core.protocol.BreakpointPackets.RemoveBreakpoint;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.target.BreakpointType;

/**
 * {@code Z}/{@code z}. A type the target does not serve gets the empty reply, which tells gdb the
 * packet is unsupported (it then falls back, e.g. to software watchpoints), not that it failed.
 */
final class BreakpointHandlers {
    private final SessionState state;

    BreakpointHandlers(SessionState state) {
        this.state = state;
    }

    void register(HandlerTable table) {
        table.on(InsertBreakpoint.class, c -> {
            BreakpointType type = served(c.type());
            if (type == null) {
                return Outcome.reply(Replies.EMPTY);
            }
            // Through the thread m/M use: a user address means what gdb's selected thread sees there.
            state.target.insertBreakpoint(state.generalThread(), type, c.address(), c.kind());
            return Outcome.reply(Replies.OK);
        });
        table.on(RemoveBreakpoint.class, c -> {
            BreakpointType type = served(c.type());
            if (type == null) {
                return Outcome.reply(Replies.EMPTY);
            }
            state.target.removeBreakpoint(type, c.address(), c.kind());
            return Outcome.reply(Replies.OK);
        });
    }

    private BreakpointType served(int packetType) {
        BreakpointType type = BreakpointType.ofPacketType(packetType);
        return type != null && state.target.supports(type) ? type : null;
    }
}

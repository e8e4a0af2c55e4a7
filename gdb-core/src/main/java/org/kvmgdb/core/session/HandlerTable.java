package org.kvmgdb.core.session;

import java.util.HashMap;
import java.util.Map;
import org.kvmgdb.core.protocol.Command;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.target.TargetException;

/**
 * Dispatch from a command's record type to its handler (Java 17 has no pattern switch). Feature
 * groups register their handlers here, like the gdbstub crate's {@code core_impl/} modules.
 * A command without a handler gets the empty reply: "not supported".
 */
final class HandlerTable {

    @FunctionalInterface
    interface Handler<T extends Command> {
        Outcome handle(T command) throws TargetException;
    }

    private final Map<Class<?>, Handler<?>> handlers = new HashMap<>();

    <T extends Command> void on(Class<T> type, Handler<T> handler) {
        if (handlers.put(type, handler) != null) {
            throw new IllegalStateException("two handlers for " + type.getSimpleName());
        }
    }

    boolean handles(Class<? extends Command> type) {
        return handlers.containsKey(type);
    }

    @SuppressWarnings("unchecked")
    Outcome dispatch(Command command) throws TargetException {
        Handler<Command> handler = (Handler<Command>) handlers.get(command.getClass());
        return handler == null ? Outcome.reply(Replies.EMPTY) : handler.handle(command);
    }
}

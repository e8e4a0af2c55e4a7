package org.kvmgdb.launcher;

import java.util.Locale;
import org.tinylog.Level;
import org.tinylog.Logger;
import org.tinylog.configuration.Configuration;
import picocli.CommandLine.Option;

/** {@code --log-level}, shared by the commands. Logging goes to stderr (tinylog.properties). */
final class LoggingOptions {

    @Option(names = "--log-level", paramLabel = "L",
            description = "Log level: trace, debug, info, warn, error or off (default: info). Logs go to stderr.",
            converter = LevelConverter.class)
    Level level = Level.INFO;

    /** Sets tinylog's level; must run before the first log line, which freezes tinylog's configuration. */
    void apply() {
        apply(false);
    }

    /**
     * @param stdoutTaken stdout carries something else ({@code --gdb stdio}: the protocol); the
     *                    console writer must write to stderr whatever a tinylog.properties says
     */
    void apply(boolean stdoutTaken) {
        if (Configuration.isFrozen()) {
            // Only when Main runs twice in one JVM (tests): the first level stays.
            Logger.debug("logging already configured; --log-level {} ignored", level);
            return;
        }
        Configuration.set("level", level.name().toLowerCase(Locale.ROOT));
        if (stdoutTaken) {
            Configuration.set("writer", "console");
            Configuration.set("writer.stream", "err");
        }
    }

    static final class LevelConverter implements picocli.CommandLine.ITypeConverter<Level> {
        @Override
        public Level convert(String value) {
            try {
                return Level.valueOf(value.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(
                        "'" + value + "' is not a log level: use trace, debug, info, warn, error or off");
            }
        }
    }
}

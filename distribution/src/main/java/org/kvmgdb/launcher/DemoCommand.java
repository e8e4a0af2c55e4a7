package org.kvmgdb.launcher;

import java.util.concurrent.Callable;
import org.kvmgdb.core.registry.ProviderRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kvmgdb demo [--attach]}: the bundled demo guest, waiting for gdb. */
@Command(name = "demo",
        description = "Start the bundled demo guest under the stub, stopped and waiting for gdb,"
                + " and print the gdb command that attaches to it.")
final class DemoCommand implements Callable<Integer> {
    private final GuestRunner runner;

    @Option(names = "--attach", description = "Also start gdb attached to the demo guest, with its symbols loaded.")
    boolean attach;

    @Mixin
    LoggingOptions logging = new LoggingOptions();

    @Mixin
    HelpOption help = new HelpOption();

    DemoCommand(GuestRunner runner) {
        this.runner = runner;
    }

    @Override
    public Integer call() {
        logging.apply();
        ProviderRegistry registry = ProviderRegistry.load();
        return runner.runDemo(new DemoConfiguration(attach, logging.level, registry));
    }
}

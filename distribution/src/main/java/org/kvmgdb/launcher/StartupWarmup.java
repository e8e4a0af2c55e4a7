package org.kvmgdb.launcher;

import java.lang.reflect.Field;
import java.net.InetAddress;
import java.nio.channels.spi.SelectorProvider;
import java.text.DecimalFormatSymbols;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.ServiceLoader;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.transport.TransportProvider;

/**
 * Work a {@code kvmgdb run} needs later, done on a second core while picocli builds and parses the
 * command line (issue 7: picocli's first use is most of a start, and what follows it was about as
 * long again). Only what has no effect a user could see: initialising classes whose static
 * initialisers neither log nor touch a device. In particular nothing here may call
 * tinylog's {@code Logger}: its first call freezes the configuration before {@code --log-level} is
 * applied. A failure here is ignored: the main thread meets the same class when it needs it and
 * fails there (a class whose initialiser threw here then fails as NoClassDefFoundError naming it,
 * e.g. with a broken JNA installation, instead of with JNA's own message).
 */
final class StartupWarmup implements Runnable {
    /**
     * The command classes picocli reads the annotations of. Reading them here first makes the JDK
     * generate the annotations' proxy classes (one per annotation type, ~1–2 ms each, which class-data
     * sharing does not archive on JDK 17) and cache the parsed annotations the main thread then reads.
     */
    private static final Class<?>[] ANNOTATED = {
        Main.Kvmgdb.class, RunCommand.class, DemoCommand.class, LoggingOptions.class, HelpOption.class,
    };

    /** Classes initialised in this order; each one's static initialiser is what costs. */
    private static final String[] CLASSES = {
        // JNA: loads libjnidispatch, runs `ldconfig -p` (NativeLibrary's search path) and binds libc.
        "org.kvmgdb.core.kvm.LibC",
        // tinylog, up to but not including its logging provider: tinylog.properties is read and the
        // runtime dialect probes RuntimeMXBean (ModernJavaRuntime's start time).
        "org.tinylog.configuration.Configuration",
        "org.tinylog.runtime.RuntimeProvider",
    };

    /**
     * Starts the warm-up on a daemon thread (it never keeps the JVM alive) when the command line
     * starts a guest: {@code run} or {@code demo}. Only a hint; picocli still parses everything.
     */
    static void startFor(String[] args) {
        if (args.length == 0 || !(args[0].equals("run") || args[0].equals("demo"))) {
            return;
        }
        for (String arg : args) {
            if (arg.equals("-h") || arg.equals("--help")) {
                return; // only prints the usage: nothing of a start to prepare
            }
        }
        Thread t = new Thread(new StartupWarmup(), "kvmgdb-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    @Override
    public void run() {
        ClassLoader loader = StartupWarmup.class.getClassLoader();
        try {
            for (Class<?> c : ANNOTATED) {
                c.getAnnotations();
                for (Field f : c.getDeclaredFields()) {
                    f.getAnnotations();
                }
            }
        } catch (RuntimeException ignored) {
            // as below
        }
        for (String name : CLASSES) {
            try {
                Class.forName(name, true, loader);
            } catch (Throwable ignored) {
                // the main thread meets the same problem where it matters, and reports it there
            }
        }
        try {
            // tinylog's {date: HH:mm:ss.SSS}: the zone rules (tzdb.dat) and the pattern parser.
            ZoneId.systemDefault().getRules();
            DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.getDefault());
            // tinylog's message formatter (its Logger's static initialiser) takes the locale's number
            // symbols: the CLDR locale data.
            DecimalFormatSymbols.getInstance(Locale.getDefault());
            // The --gdb address and the listener: InetAddress's statics (the net library, the IPv4/IPv6
            // implementation) and NIO's selector provider, which ServerSocketChannel.open() goes through.
            InetAddress.getLoopbackAddress();
            SelectorProvider.provider();
        } catch (RuntimeException ignored) {
            // as above
        }
        // The providers the registry instantiates next (the x86 register tables, ...): built once
        // here and dropped, so that their classes are initialised when the registry builds its own.
        warmProviders(ArchitectureProvider.class, loader);
        warmProviders(TransportProvider.class, loader);
    }

    /**
     * Instantiates kvmgdb's own providers of {@code service}, whose constructors do not log, and no
     * others: a plugin from elsewhere could log from its constructor and freeze tinylog too early.
     */
    private static <S> void warmProviders(Class<S> service, ClassLoader loader) {
        try {
            ServiceLoader.load(service, loader).stream()
                    .filter(p -> p.type().getName().startsWith("org.kvmgdb."))
                    .forEach(ServiceLoader.Provider::get);
        } catch (Throwable ignored) {
            // a broken entry: the registry skips it with a warning on the main thread
        }
    }
}

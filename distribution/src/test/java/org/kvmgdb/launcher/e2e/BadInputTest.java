package org.kvmgdb.launcher.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/kvmgdb run} handed what it cannot run: each case is one line on stderr that says what
 * is wrong and what to do, nothing on stdout, and the exit status README and {@code --help} give
 * for it: 2 for the command line or the ELF, 3 when KVM cannot be used, 6 when the {@code --gdb}
 * address cannot be listened on.
 */
class BadInputTest {
    private static final int USAGE = 2;
    private static final int KVM_UNAVAILABLE = 3;
    private static final int CANNOT_LISTEN = 6;

    // Elf64_Ehdr and Elf64_Phdr offsets (System V gABI; include/uapi/linux/elf.h).
    private static final int E_MACHINE = 18, E_PHOFF = 32, E_PHENTSIZE = 54, E_PHNUM = 56;
    private static final int P_TYPE = 0, P_PADDR = 24, PT_LOAD = 1;

    @TempDir
    Path work;
    private byte[] e2e;

    @BeforeEach
    void readTheGuest() throws IOException {
        String guests = System.getProperty("kvmgdb.guests");
        assumeTrue(guests != null, "kvmgdb.guests is not set: run the end-to-end tests with mvn verify");
        e2e = Files.readAllBytes(Path.of(guests, "e2e.elf"));
    }

    @Test
    void aTruncatedElf() throws Exception {
        Product.Result r = run("run", file("truncated.elf", Arrays.copyOf(e2e, 100)));
        assertOneLine(r, USAGE, "truncated ELF file", "copy it again");
        Product.Result header = run("run", file("header.elf", Arrays.copyOf(e2e, 30)));
        assertOneLine(header, USAGE, "truncated ELF file", "the ELF header needs 64");
    }

    @Test
    void a32BitElf() throws Exception {
        byte[] elf32 = new byte[52];
        System.arraycopy(new byte[] {0x7f, 'E', 'L', 'F', 1, 1, 1}, 0, elf32, 0, 7);
        assertOneLine(run("run", file("elf32.elf", elf32)), USAGE, "32-bit ELF (ELFCLASS32)", "64-bit");
    }

    @Test
    void anElfForAMachineNoPluginRuns() throws Exception {
        byte[] riscv = e2e.clone();
        le(riscv).putShort(E_MACHINE, (short) 243); // EM_RISCV
        assertOneLine(run("run", file("riscv.elf", riscv)), USAGE, "ELF machine 243", "installed: ");
    }

    @Test
    void aSegmentOutsideRam() throws Exception {
        byte[] high = withFirstLoadAt(0x1000_0000L); // 256 MiB
        assertOneLine(run("run", "--memory", "128M", file("high.elf", high)), USAGE, "lies outside RAM", "give more --memory");
    }

    @Test
    void aSegmentOverTheReservedLow64KiB() throws Exception {
        byte[] low = withFirstLoadAt(0x1000);
        assertOneLine(run("run", file("low.elf", low)), USAGE, "first 64 KiB", "link the guest at 0x10000 or above");
    }

    @Test
    void aFileThatIsNotElf() throws Exception {
        Path script = work.resolve("guest.sh");
        Files.writeString(script, "#!/bin/sh\necho not a guest\n");
        assertOneLine(run("run", script.toString()), USAGE, "not an ELF file", "ELF executable");
    }

    @Test
    void aMissingKvmDevice() throws Exception {
        Path missing = work.resolve("no-kvm");
        Product.Result r = run("-Dkvmgdb.device=" + missing, "run", guest());
        assertOneLine(r, KVM_UNAVAILABLE, missing + " does not exist", "load kvm_intel or kvm_amd");
    }

    @Test
    void aDeviceThatIsNotKvm() throws Exception {
        Product.Result r = run("-Dkvmgdb.device=/dev/null", "run", guest());
        assertOneLine(r, KVM_UNAVAILABLE, "/dev/null does not answer KVM_GET_API_VERSION", "check what is mounted there");
    }

    @Test
    void aKvmDeviceThisUserMayNotOpen() throws Exception {
        // As an unprivileged user (nobody) on the real /dev/kvm, which only root and the kvm group may open.
        Path kvm = Path.of("/dev/kvm");
        assumeTrue(Files.exists(kvm), "/dev/kvm is missing: cannot check a device this user may not open");
        Path setpriv = Path.of("/usr/bin/setpriv");
        assumeTrue(Files.isExecutable(setpriv), "setpriv (util-linux) is not installed: cannot run the launcher as another user");
        assumeTrue("root".equals(System.getProperty("user.name")), "not root: cannot run the launcher as the user nobody");
        Path guest = Files.copy(Path.of(guest()), work.resolve("e2e.elf"));
        Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(guest, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Product.Result r = Product.run(setpriv, Path.of("/"), Map.of("HOME", "/"), "--reuid=65534", "--regid=65534", "--clear-groups",
                "--", Product.home().resolve("bin/kvmgdb").toString(), "run", guest.toString());
        assumeTrue(!r.err().contains("Permission denied") || r.err().contains("/dev/kvm"),
                "nobody cannot run the product from here: " + r.both());
        assertOneLine(r, KVM_UNAVAILABLE, "permission denied opening /dev/kvm", "add yourself to the kvm group");
    }

    @Test
    void aPortInUse() throws Exception {
        requireKvm();
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            String gdb = "tcp:127.0.0.1:" + taken.getLocalPort();
            assertOneLine(run("run", "--gdb", gdb, guest()), CANNOT_LISTEN, "cannot listen on " + gdb + ": Address already in use",
                    "pick another port, or port 0");
        }
    }

    @Test
    void aSocketPathThatCannotBeCreated() throws Exception {
        requireKvm();
        Path missing = work.resolve("missing").resolve("gdb.sock");
        assertOneLine(run("run", "--gdb", "unix:" + missing, guest()), CANNOT_LISTEN,
                "cannot listen on unix:" + missing + ": the directory " + missing.getParent() + " does not exist", "create it");
        Path notADirectory = Files.writeString(work.resolve("file"), "");
        assertOneLine(run("run", "--gdb", "unix:" + notADirectory.resolve("gdb.sock"), guest()), CANNOT_LISTEN,
                notADirectory + " is not a directory", "create it or give a path in an existing directory");
    }

    @Test
    void aSocketInADirectoryOthersMayWriteTo() throws Exception {
        Path shared = Files.createDirectory(work.resolve("shared"));
        Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        assertOneLine(run("run", "--gdb", "unix:" + shared.resolve("gdb.sock"), guest()), USAGE,
                "writable by every user", "without the sticky bit", "$XDG_RUNTIME_DIR");
    }

    @Test
    void noVcpus() throws Exception {
        assertOneLine(run("run", "--cpus", "0", guest()), USAGE, "--cpus must be at least 1, was 0");
    }

    @Test
    void tooLittleMemory() throws Exception {
        assertOneLine(run("run", "--memory", "1K", guest()), USAGE, "'1K' is too small: at least 1M");
    }

    // ---- helpers ---------------------------------------------------------------------------

    private Product.Result run(String... args) throws Exception {
        return Product.run(work, args);
    }

    private static void assertOneLine(Product.Result r, int status, String... parts) {
        assertEquals(status, r.status(), r.both());
        assertEquals("", r.out(), "nothing on stdout: " + r.both());
        List<String> lines = r.err().lines().collect(java.util.stream.Collectors.toList());
        assertEquals(1, lines.size(), "one line on stderr: " + r.both());
        assertTrue(lines.get(0).startsWith("kvmgdb: "), r.both());
        for (String part : parts) {
            assertTrue(lines.get(0).contains(part), "'" + part + "' missing: " + lines.get(0));
        }
    }

    private String file(String name, byte[] bytes) throws IOException {
        return Files.write(work.resolve(name), bytes).toString();
    }

    private static String guest() {
        return Path.of(System.getProperty("kvmgdb.guests"), "e2e.elf").toString();
    }

    private static void requireKvm() {
        Path kvm = Path.of("/dev/kvm");
        assumeTrue(Files.isReadable(kvm) && Files.isWritable(kvm), "/dev/kvm is missing or not usable: the address is bound after the VM boots");
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The e2e guest with its first PT_LOAD segment's p_paddr moved to {@code paddr}. */
    private byte[] withFirstLoadAt(long paddr) {
        byte[] copy = e2e.clone();
        ByteBuffer b = le(copy);
        long phoff = b.getLong(E_PHOFF);
        int size = b.getShort(E_PHENTSIZE) & 0xffff;
        int count = b.getShort(E_PHNUM) & 0xffff;
        List<Integer> loads = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int at = (int) (phoff + (long) i * size);
            if (b.getInt(at + P_TYPE) == PT_LOAD) {
                loads.add(at);
            }
        }
        assertTrue(!loads.isEmpty(), "e2e.elf has no PT_LOAD");
        b.putLong(loads.get(0) + P_PADDR, paddr);
        return copy;
    }
}

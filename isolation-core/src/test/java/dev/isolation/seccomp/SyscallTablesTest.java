package dev.isolation.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SyscallTablesTest {
    @Test
    void wellKnownNumbers() {
        assertThat(Arch.X86_64.syscallNumber("read")).hasValue(0);
        assertThat(Arch.X86_64.syscallNumber("mount")).hasValue(165);
        assertThat(Arch.X86_64.syscallNumber("keyctl")).hasValue(250);
        assertThat(Arch.X86_64.syscallNumber("stime")).isEmpty();
        assertThat(Arch.AARCH64.syscallNumber("read")).hasValue(63);
        assertThat(Arch.AARCH64.syscallNumber("openat")).hasValue(56);
        assertThat(Arch.AARCH64.syscallNumber("mount")).hasValue(40);
        // aliases of the generic table resolved for 64-bit, with arm64's switches
        assertThat(Arch.AARCH64.syscallNumber("fcntl")).hasValue(25);
        assertThat(Arch.AARCH64.syscallNumber("fstat")).hasValue(80);
        assertThat(Arch.AARCH64.syscallNumber("newfstatat")).hasValue(79);
        assertThat(Arch.AARCH64.syscallNumber("renameat")).hasValue(38);
        assertThat(Arch.AARCH64.syscallNumber("clone3")).hasValue(435);
        assertThat(Arch.AARCH64.syscallNumber("open")).isEmpty();
        assertThat(Arch.AARCH64.syscallNumber("fcntl64")).isEmpty();
        assertThat(Arch.AARCH64.syscallNames()).doesNotContain("syscalls", "arch_specific_syscall");
        assertThat(Abi.I386.number("read")).hasValue(3);
        assertThat(Abi.X32.number("read")).hasValue(0x40000000);
        assertThat(Abi.X32.number("rt_sigaction")).hasValue(0x40000000 + 512);
        assertThat(SyscallTables.AUDIT_ARCH_X86_64).isEqualTo(0xc000003e);
        assertThat(SyscallTables.AUDIT_ARCH_I386).isEqualTo(0x40000003);
        assertThat(SyscallTables.AUDIT_ARCH_AARCH64).isEqualTo(0xc00000b7);
    }

    /** Syscalls the tables of the 6.1 headers lacked, by their numbers in the kernel's tables. */
    @Test
    void syscallsAddedAfterLinux61AreKnown() {
        Map<String, Integer> added = Map.of("cachestat", 451, "fchmodat2", 452, "map_shadow_stack", 453,
                "futex_wake", 454, "statmount", 457, "listmount", 458, "lsm_get_self_attr", 459, "mseal", 462,
                "setxattrat", 463, "open_tree_attr", 467);
        added.forEach((name, number) -> {
            assertThat(Arch.X86_64.syscallNumber(name)).as("x86_64 " + name).hasValue(number);
            assertThat(Arch.AARCH64.syscallNumber(name)).as("aarch64 " + name).hasValue(number);
            assertThat(Abi.I386.number(name)).as("i386 " + name).hasValue(number);
            assertThat(Abi.X32.number(name)).as("x32 " + name).hasValue(0x40000000 + number);
        });
        // x86_64's own additions fill a hole of its table
        assertThat(Arch.X86_64.syscallNumber("uretprobe")).hasValue(335);
        assertThat(Arch.AARCH64.syscallNumber("uretprobe")).isEmpty();
        assertThat(Arch.headersVersion()).isEqualTo(SyscallTables.HEADERS_VERSION);
        assertThat(SyscallTables.HEADERS_PACKAGE).startsWith("linux-libc-dev " + Arch.headersVersion());
    }

    @Test
    void theHighestNumbersAreTheNewestSyscalls() {
        for (Abi abi : Abi.values()) {
            int highest = 0;
            for (int number : abi.table().values()) {
                highest = Math.max(highest, number);
            }
            assertThat(abi.highest()).as(abi.label()).isEqualTo(highest);
        }
        // every ABI numbers the syscalls added since Linux 5.1 alike (424 pidfd_send_signal on)
        assertThat(Abi.I386.highest()).isEqualTo(Abi.X86_64.highest()).isEqualTo(Abi.AARCH64.highest());
        assertThat(Abi.X86_64.highest()).isGreaterThanOrEqualTo(462);
        assertThat(Abi.X86_64.highestShared()).isEqualTo(Abi.X86_64.highest());
        assertThat(Abi.X86_64.ownFirst()).isEmpty();
        // x32: its own syscalls are 512..547, every one present; the shared ones end where x86_64's do
        assertThat(Abi.X32.highestShared()).isEqualTo(0x40000000 + Abi.X86_64.highest());
        assertThat(Abi.X32.ownFirst()).hasValue(0x40000000 + 512);
        assertThat(Abi.X32.highest()).isEqualTo(0x40000000 + 547);
        assertThat(Abi.X32.table().values().stream().filter(n -> n >= 0x40000000 + 512).sorted().toList())
                .containsExactlyElementsOf(IntStream.rangeClosed(0x40000000 + 512, 0x40000000 + 547).boxed()
                        .toList());
    }

    /**
     * Runs the generator's --check: the checked-in file against headers of the version it records, from
     * $ISOLATION_SECCOMP_HEADERS (the usr/include of the unpacked package the file names; default /usr/include).
     * Skipped without python3 or cpp, or when those headers are of another version (the generator says which).
     */
    @Test
    void theCheckedInTablesMatchTheGenerator() throws IOException, InterruptedException {
        Path script = Path.of("src/main/seccomp-tables/generate_tables.py");
        Path checkedIn = Path.of("src/main/java/dev/isolation/seccomp/SyscallTables.java");
        assumeTrue(Files.isRegularFile(script) && Files.isRegularFile(checkedIn), "run from isolation-core");
        String include = System.getenv().getOrDefault("ISOLATION_SECCOMP_HEADERS", "/usr/include");
        assumeTrue(Files.isRegularFile(Path.of(include, "linux", "version.h")), "no kernel headers in " + include);
        Process process;
        try {
            process = new ProcessBuilder("python3", script.toString(), "--check", "--include", include, "--output",
                    checkedIn.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no python3: " + e.getMessage());
            return;
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = process.waitFor();
        assumeTrue(status != 3, output);
        assumeTrue(status != 2 || !output.contains("not installed"), output);
        assertThat(status).as(output).isZero();
    }
}

package dev.isolation.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** Regenerates the tables from this machine's headers and compares; skipped without python3, cpp or them. */
    @Test
    void theCheckedInTablesMatchTheGenerator() throws IOException, InterruptedException {
        Path script = Path.of("src/main/seccomp-tables/generate_tables.py");
        Path checkedIn = Path.of("src/main/java/dev/isolation/seccomp/SyscallTables.java");
        assumeTrue(Files.isRegularFile(script) && Files.isRegularFile(checkedIn), "run from isolation-core");
        assumeTrue(Files.isRegularFile(Path.of("/usr/include/asm-generic/unistd.h"))
                && Files.isRegularFile(Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")), "no kernel headers");
        Process process;
        try {
            process = new ProcessBuilder("python3", script.toString(), "--output", "-").start();
        } catch (IOException e) {
            assumeTrue(false, "no python3: " + e.getMessage());
            return;
        }
        String generated = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        String errors = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = process.waitFor();
        assumeTrue(status != 2 || !errors.contains("not installed"), errors);
        assertThat(status).as(errors).isZero();
        assumeTrue(generated.contains("HEADERS_VERSION = \"" + SyscallTables.HEADERS_VERSION + "\""),
                "this machine's kernel headers are another version: regenerate to compare");
        assertThat(generated).isEqualTo(Files.readString(checkedIn, StandardCharsets.US_ASCII));
    }
}

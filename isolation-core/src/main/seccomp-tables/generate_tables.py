#!/usr/bin/env python3
"""Generates SyscallTables.java, the syscall name -> number tables of dev.isolation.seccomp, from the kernel's
own UAPI headers on the machine that runs it (Debian: the linux-libc-dev package), and the AUDIT_ARCH_* values
from <linux/audit.h>.

    python3 isolation-core/src/main/seccomp-tables/generate_tables.py            # rewrites the checked-in file
    python3 isolation-core/src/main/seccomp-tables/generate_tables.py --check    # exits 1 if it is out of date
    python3 isolation-core/src/main/seccomp-tables/generate_tables.py --output -  # prints it

Needs python3 and the C preprocessor (cpp, part of gcc, which the build already needs for the helper).

The four tables:
  x86_64   asm/unistd_64.h    plain "#define __NR_name number" lines
  x32      asm/unistd_x32.h   "(__X32_SYSCALL_BIT + n)", the bit read from asm/unistd.h
  i386     asm/unistd_32.h    plain lines
  aarch64  asm-generic/unistd.h, the generic table arm64 uses. Its numbers depend on preprocessor switches, so
           it is run through cpp with the switches arm64's own uapi <asm/unistd.h> sets before including it, and
           with __BITS_PER_LONG at 64 (a stub <asm/bitsperlong.h>, so that the x86 one of this machine is not read).
           Aliases such as "__NR_fcntl __NR3264_fcntl" are then resolved to their numbers.
"""

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile

INCLUDE = "/usr/include"
X86_DIR = os.path.join(INCLUDE, "x86_64-linux-gnu", "asm")
GENERIC = os.path.join(INCLUDE, "asm-generic", "unistd.h")
AUDIT = os.path.join(INCLUDE, "linux", "audit.h")
VERSION = os.path.join(INCLUDE, "linux", "version.h")

# What arch/arm64/include/uapi/asm/unistd.h defines before it includes <asm-generic/unistd.h>.
ARM64_SWITCHES = [
    "__ARCH_WANT_RENAMEAT",
    "__ARCH_WANT_NEW_STAT",
    "__ARCH_WANT_SET_GET_RLIMIT",
    "__ARCH_WANT_TIME32_SYSCALLS",
    "__ARCH_WANT_SYS_CLONE3",
    "__ARCH_WANT_MEMFD_SECRET",
]

# Macros of the generic header that are not syscalls.
NOT_SYSCALLS = {"syscalls", "arch_specific_syscall"}

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "..", "java", "dev", "isolation", "seccomp", "SyscallTables.java")


def fail(message):
    sys.stderr.write("generate_tables.py: " + message + "\n")
    sys.exit(2)


def read(path):
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except OSError as e:
        fail("cannot read %s: %s (install the kernel UAPI headers: apt-get install linux-libc-dev)" % (path, e))


def plain_table(path):
    """'#define __NR_name 123' lines."""
    table = {}
    for match in re.finditer(r"^#define __NR_(\w+)\s+(\d+)\s*$", read(path), re.MULTILINE):
        table[match.group(1)] = int(match.group(2))
    if not table:
        fail("no syscall numbers found in " + path)
    return table


def x32_table(path, bit):
    table = {}
    for match in re.finditer(r"^#define __NR_(\w+)\s+\(__X32_SYSCALL_BIT \+ (\d+)\)\s*$", read(path), re.MULTILINE):
        table[match.group(1)] = bit + int(match.group(2))
    if not table:
        fail("no syscall numbers found in " + path)
    return table


def x32_bit():
    match = re.search(r"^#define __X32_SYSCALL_BIT\s+(0x[0-9a-fA-F]+)\s*$", read(os.path.join(X86_DIR, "unistd.h")),
                      re.MULTILINE)
    if not match:
        fail("__X32_SYSCALL_BIT not found in " + os.path.join(X86_DIR, "unistd.h"))
    return int(match.group(1), 16)


def cpp(source, extra_args):
    try:
        return subprocess.run(["cpp"] + extra_args, input=source, capture_output=True, text=True,
                              check=True).stdout
    except FileNotFoundError:
        fail("cpp (the C preprocessor) is not installed: apt-get install cpp")
    except subprocess.CalledProcessError as e:
        fail("cpp failed: " + e.stderr.strip())


def generic_table():
    read(GENERIC)
    with tempfile.TemporaryDirectory() as stub:
        os.mkdir(os.path.join(stub, "asm"))
        with open(os.path.join(stub, "asm", "bitsperlong.h"), "w") as f:
            f.write("#define __BITS_PER_LONG 64\n")
        args = ["-undef", "-nostdinc", "-dM", "-I", stub] + ["-D" + s for s in ARM64_SWITCHES] + [GENERIC]
        macros = {}
        for match in re.finditer(r"^#define (__NR(?:3264)?_\w+) (\S+)$", cpp("", args), re.MULTILINE):
            macros[match.group(1)] = match.group(2)
    table = {}
    for macro in macros:
        if not macro.startswith("__NR_"):
            continue
        name = macro[len("__NR_"):]
        if name in NOT_SYSCALLS:
            continue
        value, seen = macros[macro], set()
        while not value.isdigit():
            if value in seen or value not in macros:
                fail("cannot resolve %s (%s) in %s" % (macro, value, GENERIC))
            seen.add(value)
            value = macros[value]
        table[name] = int(value)
    if not table:
        fail("no syscall numbers found in " + GENERIC)
    return table


def audit_arch(name):
    expanded = cpp("#include <linux/audit.h>\n" + name + "\n", ["-P", "-I", INCLUDE]).strip().splitlines()[-1]
    if not re.fullmatch(r"[()|x0-9a-fA-FuUlL \t]+", expanded):
        fail("unexpected expansion of %s: %s" % (name, expanded))
    return eval(re.sub(r"(?<=[0-9a-fA-F])[uUlL]+", "", expanded)) & 0xffffffff


def kernel_headers_version():
    match = re.search(r"^#define LINUX_VERSION_CODE (\d+)", read(VERSION), re.MULTILINE)
    if not match:
        return "unknown"
    code = int(match.group(1))
    return "%d.%d.%d" % (code >> 16, (code >> 8) & 0xff, code & 0xff)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def text_block(table):
    rows = sorted(table.items(), key=lambda item: (item[1], item[0]))
    return "\n".join("            %s %d" % (name, number) for name, number in rows)


def java_source():
    bit = x32_bit()
    tables = [
        ("X86_64", os.path.join(X86_DIR, "unistd_64.h"), plain_table(os.path.join(X86_DIR, "unistd_64.h"))),
        ("X32", os.path.join(X86_DIR, "unistd_x32.h"), x32_table(os.path.join(X86_DIR, "unistd_x32.h"), bit)),
        ("I386", os.path.join(X86_DIR, "unistd_32.h"), plain_table(os.path.join(X86_DIR, "unistd_32.h"))),
        ("AARCH64", GENERIC, generic_table()),
    ]
    arches = [(n, audit_arch("AUDIT_ARCH_" + n)) for n in ("X86_64", "I386", "AARCH64")]
    out = []
    out.append("// GENERATED by isolation-core/src/main/seccomp-tables/generate_tables.py: do not edit by hand.")
    out.append("// Regenerate with `python3 isolation-core/src/main/seccomp-tables/generate_tables.py`.")
    out.append("// Kernel UAPI headers %s:" % kernel_headers_version())
    for _, path, _ in tables:
        out.append("//   %s" % path)
        out.append("//     sha256 %s" % sha256(path))
    out.append("//   aarch64: %s, through cpp with" % GENERIC)
    out.append("//     " + ", ".join(ARM64_SWITCHES[:3]) + ",")
    out.append("//     " + ", ".join(ARM64_SWITCHES[3:]))
    out.append("package dev.isolation.seccomp;")
    out.append("")
    out.append("/** Syscall tables (\"name number\" lines, by number) and audit architectures, from kernel headers. */")
    out.append("final class SyscallTables {")
    out.append("    /** The version of the kernel UAPI headers the tables come from. */")
    out.append("    static final String HEADERS_VERSION = \"%s\";" % kernel_headers_version())
    out.append("")
    out.append("    /** __X32_SYSCALL_BIT: set in the syscall number of every x32 call. */")
    out.append("    static final int X32_SYSCALL_BIT = 0x%08x;" % bit)
    out.append("")
    for name, value in arches:
        out.append("    static final int AUDIT_ARCH_%s = 0x%08x;" % (name, value))
    for name, path, table in tables:
        out.append("")
        out.append("    /** %d syscalls, from %s. */" % (len(table), path))
        out.append("    static final String %s = \"\"\"" % name)
        out.append(text_block(table) + "\"\"\";")
    out.append("")
    out.append("    private SyscallTables() {")
    out.append("    }")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description="Generates SyscallTables.java from the kernel UAPI headers.")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="file to write, or - for stdout")
    parser.add_argument("--check", action="store_true", help="only compare with the existing file")
    options = parser.parse_args()
    source = java_source()
    if options.check:
        with open(options.output, encoding="ascii") as f:
            if f.read() != source:
                sys.stderr.write("%s is out of date: run generate_tables.py\n" % options.output)
                sys.exit(1)
        return
    if options.output == "-":
        sys.stdout.write(source)
    else:
        with open(options.output, "w", encoding="ascii") as f:
            f.write(source)


if __name__ == "__main__":
    main()

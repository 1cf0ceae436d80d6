#!/usr/bin/env python3
"""Generates SyscallTables.java, the syscall name -> number tables of dev.isolation.seccomp, from the kernel's
own UAPI headers (Debian: the linux-libc-dev package), and the AUDIT_ARCH_* values from <linux/audit.h>.

    python3 isolation-core/src/main/seccomp-tables/generate_tables.py --include DIR          # rewrites the file
    python3 isolation-core/src/main/seccomp-tables/generate_tables.py --include DIR --check  # compares only
    python3 isolation-core/src/main/seccomp-tables/generate_tables.py --include DIR --output -  # prints it

--include is the directory the headers are under: /usr/include (the default) for the machine's own
linux-libc-dev, or the usr/include of a linux-libc-dev .deb unpacked with dpkg-deb -x.

The checked-in file comes from linux-libc-dev 7.3.4-1~bpo13+1 (trixie-backports; kernel UAPI headers 7.3.4),
SHA-256 b3a4538fca67081c8606a93f37521d0eb74ac75996a02f3321a6b27f978e10a8. To reproduce it on any Debian machine,
without touching the machine's apt configuration:

    sh isolation-core/src/main/seccomp-tables/fetch_headers.sh trixie-backports '7.3.4-1~bpo13+1' /tmp/linux-libc-dev
    python3 isolation-core/src/main/seccomp-tables/generate_tables.py --include /tmp/linux-libc-dev/usr/include

The file records the headers' version, the package's version (read from its Debian changelog beside the headers,
<DIR>/../share/doc/linux-libc-dev/changelog.Debian.gz) and the SHA-256 of each header table it read. --check
compares only with headers of the version the file records: with others (this machine's older /usr/include, say)
it says which versions differ and exits 3 instead of reporting a difference that only means "other headers".

Exit status: 0 done (or up to date), 1 out of date (--check), 2 error (headers or cpp missing), 3 headers of
another version: --check with headers other than the file's, or a rewrite from headers older than the file's
(refused unless --allow-older, since it would drop syscalls).

Needs python3 and the C preprocessor (cpp, part of gcc, which the build already needs for the helper).

The four tables:
  x86_64   x86_64-linux-gnu/asm/unistd_64.h    plain "#define __NR_name number" lines
  x32      x86_64-linux-gnu/asm/unistd_x32.h   "(__X32_SYSCALL_BIT + n)", the bit read from asm/unistd.h
  i386     x86_64-linux-gnu/asm/unistd_32.h    plain lines
  aarch64  aarch64-linux-gnu/asm/unistd_64.h   plain lines: since Linux 6.11 arm64's <asm/unistd.h> is generated
           from the kernel's syscall table like x86's, and packages that hold every architecture's headers (Debian's
           linux-libc-dev from trixie on) have it. Headers without it (a single-architecture package such as bookworm's)
           give the table through asm-generic/unistd.h, the generic table arm64 used before: its numbers depend on
           preprocessor switches, so it is run through cpp with the switches arm64's <asm/unistd.h> set before
           including it, and with __BITS_PER_LONG at 64 (a stub <asm/bitsperlong.h>, so that the x86 one is not
           read). Aliases such as "__NR_fcntl __NR3264_fcntl" are then resolved to their numbers.
"""

import argparse
import difflib
import gzip
import hashlib
import os
import re
import subprocess
import sys
import tempfile

DEFAULT_INCLUDE = "/usr/include"
X86_ASM = os.path.join("x86_64-linux-gnu", "asm")
ARM64_TABLE = os.path.join("aarch64-linux-gnu", "asm", "unistd_64.h")
GENERIC = os.path.join("asm-generic", "unistd.h")
VERSION = os.path.join("linux", "version.h")
CHANGELOG = os.path.join("..", "share", "doc", "linux-libc-dev", "changelog.Debian.gz")

# What arch/arm64/include/uapi/asm/unistd.h defined before it included <asm-generic/unistd.h> (Linux < 6.11).
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

EXIT_OUT_OF_DATE = 1
EXIT_ERROR = 2
EXIT_OTHER_HEADERS = 3


def fail(message):
    sys.stderr.write("generate_tables.py: " + message + "\n")
    sys.exit(EXIT_ERROR)


class Headers:
    """The header files under one include directory, named relative to it in the output."""

    def __init__(self, include):
        self.include = os.path.abspath(include)
        if not os.path.isdir(self.include):
            fail("--include %s is not a directory" % include)

    def path(self, relative):
        return os.path.join(self.include, relative)

    def exists(self, relative):
        return os.path.isfile(self.path(relative))

    def read(self, relative):
        try:
            with open(self.path(relative), encoding="ascii") as f:
                return f.read()
        except OSError as e:
            fail("cannot read %s: %s (install the kernel UAPI headers, apt-get install linux-libc-dev, or name"
                 " an unpacked linux-libc-dev's usr/include with --include)" % (self.path(relative), e))

    def sha256(self, relative):
        with open(self.path(relative), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def version(self):
        """The kernel version of the headers, from LINUX_VERSION_CODE."""
        match = re.search(r"^#define LINUX_VERSION_CODE (\d+)", self.read(VERSION), re.MULTILINE)
        if not match:
            return "unknown"
        code = int(match.group(1))
        return "%d.%d.%d" % (code >> 16, (code >> 8) & 0xff, code & 0xff)

    def package(self):
        """'linux-libc-dev VERSION (SUITE)' from the package's Debian changelog; None when it is not there."""
        try:
            with gzip.open(self.path(CHANGELOG), "rt", encoding="utf-8") as f:
                first = f.readline()
        except OSError:
            return None
        match = re.match(r"^\S+ \(([^)]+)\) ([^;]+);", first)
        return "linux-libc-dev %s (%s)" % (match.group(1), match.group(2).strip()) if match else None


def plain_table(headers, relative):
    """'#define __NR_name 123' lines."""
    table = {}
    for match in re.finditer(r"^#define __NR_(\w+)\s+(\d+)\s*$", headers.read(relative), re.MULTILINE):
        table[match.group(1)] = int(match.group(2))
    if not table:
        fail("no syscall numbers found in " + headers.path(relative))
    return table


def x32_table(headers, relative, bit):
    table = {}
    pattern = r"^#define __NR_(\w+)\s+\(__X32_SYSCALL_BIT \+ (\d+)\)\s*$"
    for match in re.finditer(pattern, headers.read(relative), re.MULTILINE):
        table[match.group(1)] = bit + int(match.group(2))
    if not table:
        fail("no syscall numbers found in " + headers.path(relative))
    return table


def x32_bit(headers):
    relative = os.path.join(X86_ASM, "unistd.h")
    match = re.search(r"^#define __X32_SYSCALL_BIT\s+(0x[0-9a-fA-F]+)\s*$", headers.read(relative), re.MULTILINE)
    if not match:
        fail("__X32_SYSCALL_BIT not found in " + headers.path(relative))
    return int(match.group(1), 16)


def cpp(source, extra_args):
    try:
        return subprocess.run(["cpp"] + extra_args, input=source, capture_output=True, text=True,
                              check=True).stdout
    except FileNotFoundError:
        fail("cpp (the C preprocessor) is not installed: apt-get install cpp")
    except subprocess.CalledProcessError as e:
        fail("cpp failed: " + e.stderr.strip())


def generic_table(headers):
    headers.read(GENERIC)
    with tempfile.TemporaryDirectory() as stub:
        os.mkdir(os.path.join(stub, "asm"))
        with open(os.path.join(stub, "asm", "bitsperlong.h"), "w") as f:
            f.write("#define __BITS_PER_LONG 64\n")
        args = (["-undef", "-nostdinc", "-dM", "-I", stub] + ["-D" + s for s in ARM64_SWITCHES]
                + [headers.path(GENERIC)])
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
                fail("cannot resolve %s (%s) in %s" % (macro, value, headers.path(GENERIC)))
            seen.add(value)
            value = macros[value]
        table[name] = int(value)
    if not table:
        fail("no syscall numbers found in " + headers.path(GENERIC))
    return table


def audit_arch(headers, name):
    # Only the headers under --include: the machine's own (perhaps of another version) must not be mixed in.
    args = ["-P", "-nostdinc", "-I", headers.path("x86_64-linux-gnu"), "-I", headers.include]
    expanded = cpp("#include <linux/audit.h>\n" + name + "\n", args).strip().splitlines()[-1]
    if not re.fullmatch(r"[()|x0-9a-fA-FuUlL \t]+", expanded):
        fail("unexpected expansion of %s: %s" % (name, expanded))
    return eval(re.sub(r"(?<=[0-9a-fA-F])[uUlL]+", "", expanded)) & 0xffffffff


def text_block(table):
    rows = sorted(table.items(), key=lambda item: (item[1], item[0]))
    return "\n".join("            %s %d" % (name, number) for name, number in rows)


def java_source(headers):
    bit = x32_bit(headers)
    x86 = [os.path.join(X86_ASM, name) for name in ("unistd_64.h", "unistd_x32.h", "unistd_32.h")]
    tables = [
        ("X86_64", x86[0], plain_table(headers, x86[0])),
        ("X32", x86[1], x32_table(headers, x86[1], bit)),
        ("I386", x86[2], plain_table(headers, x86[2])),
    ]
    if headers.exists(ARM64_TABLE):
        tables.append(("AARCH64", ARM64_TABLE, plain_table(headers, ARM64_TABLE)))
    else:
        tables.append(("AARCH64", GENERIC, generic_table(headers)))
    arches = [(n, audit_arch(headers, "AUDIT_ARCH_" + n)) for n in ("X86_64", "I386", "AARCH64")]
    version = headers.version()
    package = headers.package()
    out = []
    out.append("// GENERATED by isolation-core/src/main/seccomp-tables/generate_tables.py: do not edit by hand.")
    out.append("// Regenerate as isolation-core/src/main/seccomp-tables/README.md says.")
    out.append("// Kernel UAPI headers %s, from %s; files under --include:"
               % (version, package or "an unknown package (no Debian changelog beside the headers)"))
    for _, relative, _ in tables:
        out.append("//   %s" % relative)
        out.append("//     sha256 %s" % headers.sha256(relative))
    if tables[-1][1] == GENERIC:
        out.append("//   aarch64: %s, through cpp with" % GENERIC)
        out.append("//     " + ", ".join(ARM64_SWITCHES[:3]) + ",")
        out.append("//     " + ", ".join(ARM64_SWITCHES[3:]))
    out.append("package dev.isolation.seccomp;")
    out.append("")
    out.append("/** Syscall tables (\"name number\" lines, by number) and audit architectures, from kernel headers. */")
    out.append("final class SyscallTables {")
    out.append("    /** The version of the kernel UAPI headers the tables come from. */")
    out.append("    static final String HEADERS_VERSION = \"%s\";" % version)
    out.append("")
    out.append("    /** The package the headers come from. */")
    out.append("    static final String HEADERS_PACKAGE = \"%s\";" % (package or "unknown"))
    out.append("")
    out.append("    /** __X32_SYSCALL_BIT: set in the syscall number of every x32 call. */")
    out.append("    static final int X32_SYSCALL_BIT = 0x%08x;" % bit)
    out.append("")
    for name, value in arches:
        out.append("    static final int AUDIT_ARCH_%s = 0x%08x;" % (name, value))
    for name, relative, table in tables:
        out.append("")
        highest = max(table.values())
        shown = "__X32_SYSCALL_BIT + %d" % (highest - bit) if name == "X32" else "%d" % highest
        out.append("    /** %d syscalls, highest %s, from %s. */" % (len(table), shown, relative))
        out.append("    static final String %s = \"\"\"" % name)
        out.append(text_block(table) + "\"\"\";")
    out.append("")
    out.append("    private SyscallTables() {")
    out.append("    }")
    out.append("}")
    return "\n".join(out) + "\n"


def display(path):
    """The path relative to the working directory when it is under it, else absolute."""
    relative = os.path.relpath(path)
    return os.path.abspath(path) if relative.startswith("..") else relative


def recorded(existing, constant):
    match = re.search(r'^    static final String %s = "([^"]*)";$' % constant, existing, re.MULTILINE)
    return match.group(1) if match else None


def version_key(version):
    return tuple(int(part) for part in re.findall(r"\d+", version))


def check(headers, output):
    try:
        with open(output, encoding="ascii") as f:
            existing = f.read()
    except OSError as e:
        fail("cannot read %s: %s" % (output, e))
    # First the versions, so that other headers are reported as such, not as a pile of differences.
    theirs = recorded(existing, "HEADERS_VERSION")
    theirs_package = recorded(existing, "HEADERS_PACKAGE") or "an unknown package"
    ours = headers.version()
    ours_package = headers.package() or "an unknown package"
    if theirs != ours:
        relation = "another version"
        if theirs and ours != "unknown":
            relation = "older" if version_key(ours) < version_key(theirs) else "newer"
        sys.stderr.write("generate_tables.py: cannot check %s with the headers under %s: the file was generated"
                         " from kernel UAPI headers %s, from %s; %s has headers %s, from %s (%s).\n"
                         % (display(output), headers.include, theirs, theirs_package, headers.include, ours,
                            ours_package, relation))
        if relation == "newer":
            sys.stderr.write("To take their syscalls, regenerate without --check and review the diff.\n")
        package = re.fullmatch(r"linux-libc-dev (\S+) \((\S+)\)", theirs_package or "")
        if package:
            sys.stderr.write("To check the file as it is, with the headers it records:\n"
                             "    sh %s %s '%s' /tmp/linux-libc-dev\n"
                             "    python3 %s --check --include /tmp/linux-libc-dev/usr/include\n"
                             % (display(os.path.join(HERE, "fetch_headers.sh")), package.group(2),
                                package.group(1), display(os.path.abspath(__file__))))
        sys.exit(EXIT_OTHER_HEADERS)
    source = java_source(headers)
    if existing != source:
        diff = list(difflib.unified_diff(existing.splitlines(), source.splitlines(), "checked in",
                                         "from " + headers.include, lineterm="", n=1))
        shown = diff[:40] + (["... (%d more lines)" % (len(diff) - 40)] if len(diff) > 40 else [])
        sys.stderr.write("generate_tables.py: %s is out of date with the headers under %s (%s, from %s): run"
                         " generate_tables.py without --check\n%s\n"
                         % (display(output), headers.include, ours, ours_package, "\n".join(shown)))
        sys.exit(EXIT_OUT_OF_DATE)


def refuse_older(headers, output):
    """Rewriting the file from older headers would forget syscalls: refused unless --allow-older."""
    try:
        with open(output, encoding="ascii") as f:
            theirs = recorded(f.read(), "HEADERS_VERSION")
    except OSError:
        return
    ours = headers.version()
    if theirs and ours != "unknown" and version_key(ours) < version_key(theirs):
        sys.stderr.write("generate_tables.py: not rewriting %s: it comes from kernel UAPI headers %s, and %s has"
                         " older ones, %s, whose tables lack the syscalls added since. Name newer headers with"
                         " --include (see README.md), or pass --allow-older.\n"
                         % (display(output), theirs, headers.include, ours))
        sys.exit(EXIT_OTHER_HEADERS)


def main():
    parser = argparse.ArgumentParser(description="Generates SyscallTables.java from the kernel UAPI headers.")
    parser.add_argument("--include", default=DEFAULT_INCLUDE, metavar="DIR",
                        help="the directory holding the kernel UAPI headers: /usr/include (default), or the"
                             " usr/include of an unpacked linux-libc-dev .deb")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="file to write, or - for stdout")
    parser.add_argument("--check", action="store_true",
                        help="only compare the file with headers of the version it records (exit 1 if it differs,"
                             " 3 if --include holds another version)")
    parser.add_argument("--allow-older", action="store_true",
                        help="rewrite the file even from headers older than those it was generated from")
    options = parser.parse_args()
    headers = Headers(options.include)
    if options.check:
        if options.output == "-":
            fail("--check compares with a file: name it with --output, or leave the default")
        check(headers, options.output)
        return
    if options.output != "-" and not options.allow_older:
        refuse_older(headers, options.output)
    source = java_source(headers)
    if options.output == "-":
        sys.stdout.write(source)
    else:
        with open(options.output, "w", encoding="ascii") as f:
            f.write(source)


if __name__ == "__main__":
    main()

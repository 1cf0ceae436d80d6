package dev.isolation.seccomp;

import dev.isolation.fs.image.Json;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads an OCI runtime-spec seccomp object ({@code linux.seccomp}), or a Docker / Podman profile file, into a
 * {@link SeccompPolicy}.
 *
 * <ul>
 *   <li>{@code defaultAction}, a syscall entry's {@code action}: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO (errno from
 *       {@code defaultErrnoRet} / {@code errnoRet}, EPERM when absent), SCMP_ACT_KILL (which libseccomp defines as
 *       kill-thread) and SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG. Refused:
 *       SCMP_ACT_TRACE (there is no tracer) and SCMP_ACT_NOTIFY (there is no listener).
 *   <li>{@code architectures} and Docker's {@code archMap}: SCMP_ARCH_X86_64 and SCMP_ARCH_AARCH64 are the
 *       {@link Arch}es compiled for (at least one is needed; both when neither key is present); SCMP_ARCH_X86 or
 *       SCMP_ARCH_X32 turn on {@code allowForeignAbi} (which lets in both, each through the same rules); the other
 *       SCMP_ARCH_* values (SCMP_ARCH_ARM included: AArch32 calls stay refused) are accepted and not compiled for.
 *   <li>{@code syscalls[]}: {@code names} (or the older single {@code name}), {@code action}, {@code errnoRet},
 *       {@code args[]} of {@code index}, {@code value}, {@code valueTwo}, {@code op}: SCMP_CMP_EQ, NE, LT, LE, GT,
 *       GE, and MASKED_EQ, which means {@code (arg & value) == valueTwo}. The args of one entry must all hold. A
 *       name no table of the architectures knows is skipped and listed in {@link SeccompPolicy#skippedNames()}.
 *   <li>Docker's {@code includes} / {@code excludes} of an entry: {@code arches} (Go or seccomp names) keep or drop
 *       it for the x86 or arm family compiled for; {@code caps} count as not granted (an entry that needs a
 *       capability is dropped, one excluded by a capability kept); {@code minKernel} is not checked (the kernel is
 *       not known when compiling).
 *   <li>Syscalls newer than the tables ({@link SeccompPolicy#unknownSyscalls()}) get {@code defaultAction}, which
 *       the profile gives every syscall it does not list. (runc instead answers ENOSYS to the syscalls above the
 *       highest the profile names when {@code defaultAction} refuses; {@code toBuilder().unknownSyscalls(
 *       Action.errno(38))} gives that for the syscalls above the tables.)
 *   <li>{@code flags} must be empty (the filter is installed with prctl, which takes none); {@code listenerPath}
 *       and {@code listenerMetadata} must be empty; {@code comment} is ignored; any other key is an error.
 * </ul>
 */
final class OciProfile {
    private static final Set<String> TOP_KEYS = Set.of("defaultAction", "defaultErrnoRet", "architectures",
            "archMap", "syscalls", "flags", "listenerPath", "listenerMetadata", "comment");
    private static final Set<String> SYSCALL_KEYS = Set.of("names", "name", "action", "errnoRet", "args", "comment",
            "includes", "excludes");
    private static final Set<String> ARG_KEYS = Set.of("index", "value", "valueTwo", "op");
    private static final Set<String> FILTER_KEYS = Set.of("arches", "caps", "minKernel");
    private static final Set<String> ARCH_MAP_KEYS = Set.of("architecture", "subArchitectures");
    /** The libseccomp architectures that are accepted in a profile and not compiled for. */
    private static final Set<String> OTHER_ARCHES = Set.of("SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
            "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
            "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
            "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH",
            "SCMP_ARCH_SHEB");
    private static final BigInteger MAX_U64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final EnumSet<Arch> architectures = EnumSet.noneOf(Arch.class);
    private boolean foreign;

    private OciProfile() {
    }

    static SeccompPolicy parse(String json) {
        Object document;
        try {
            document = Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("seccomp profile: " + e.getMessage(), e);
        }
        Map<String, Object> root = object(document, "the profile");
        return new OciProfile().read(root);
    }

    private SeccompPolicy read(Map<String, Object> root) {
        checkKeys(root, TOP_KEYS, "the profile");
        for (String key : List.of("listenerPath", "listenerMetadata")) {
            Object value = root.get(key);
            if (value != null && !(value instanceof String text && text.isEmpty())) {
                throw new IllegalArgumentException("seccomp profile: " + key + " is set, but SCMP_ACT_NOTIFY has no"
                        + " listener here");
            }
        }
        Object flags = root.get("flags");
        if (flags != null && !list(flags, "flags").isEmpty()) {
            throw new IllegalArgumentException("seccomp profile: flags " + flags + " cannot be honoured: the filter"
                    + " is installed with prctl(PR_SET_SECCOMP), which takes no flags");
        }

        boolean archesGiven = false;
        if (root.get("architectures") != null) {
            archesGiven = true;
            List<Object> names = list(root.get("architectures"), "architectures");
            for (int i = 0; i < names.size(); i++) {
                architecture(string(names.get(i), "architectures[" + i + "]"), "architectures[" + i + "]");
            }
        }
        if (root.get("archMap") != null) {
            archesGiven = true;
            List<Object> entries = list(root.get("archMap"), "archMap");
            for (int i = 0; i < entries.size(); i++) {
                String where = "archMap[" + i + "]";
                Map<String, Object> entry = object(entries.get(i), where);
                checkKeys(entry, ARCH_MAP_KEYS, where);
                architecture(string(required(entry, "architecture", where), where + ".architecture"),
                        where + ".architecture");
                Object subs = entry.get("subArchitectures");
                if (subs != null) {
                    List<Object> names = list(subs, where + ".subArchitectures");
                    for (int j = 0; j < names.size(); j++) {
                        String at = where + ".subArchitectures[" + j + "]";
                        architecture(string(names.get(j), at), at);
                    }
                }
            }
        }
        if (!archesGiven) {
            architectures.addAll(EnumSet.allOf(Arch.class));
        } else if (architectures.isEmpty()) {
            throw new IllegalArgumentException("seccomp profile: architectures: none is SCMP_ARCH_X86_64 or"
                    + " SCMP_ARCH_AARCH64, the machines programs are compiled for");
        }

        Action defaultAction = action(root.get("defaultAction"), root.get("defaultErrnoRet"), "defaultAction",
                "defaultErrnoRet");
        SeccompPolicy.Builder builder = SeccompPolicy.builder()
                .architectures(architectures)
                .allowForeignAbi(foreign && architectures.contains(Arch.X86_64))
                .defaultAction(defaultAction)
                .unknownSyscalls(defaultAction);

        Object syscalls = root.get("syscalls");
        List<Object> entries = syscalls == null ? List.of() : list(syscalls, "syscalls");
        for (int i = 0; i < entries.size(); i++) {
            entry(builder, object(entries.get(i), "syscalls[" + i + "]"), "syscalls[" + i + "]");
        }
        return builder.build();
    }

    private void entry(SeccompPolicy.Builder builder, Map<String, Object> entry, String where) {
        checkKeys(entry, SYSCALL_KEYS, where);
        List<String> names = new ArrayList<>();
        if (entry.get("names") != null) {
            List<Object> list = list(entry.get("names"), where + ".names");
            for (int i = 0; i < list.size(); i++) {
                names.add(string(list.get(i), where + ".names[" + i + "]"));
            }
        }
        if (entry.get("name") != null) {
            names.add(string(entry.get("name"), where + ".name"));
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("seccomp profile: " + where + " names no syscall (names is empty)");
        }
        Action action = action(required(entry, "action", where), entry.get("errnoRet"), where + ".action",
                where + ".errnoRet");
        List<ArgCondition> conditions = new ArrayList<>();
        if (entry.get("args") != null) {
            List<Object> args = list(entry.get("args"), where + ".args");
            if (args.size() > ArgCondition.MAX_ARGS) {
                throw new IllegalArgumentException("seccomp profile: " + where + ".args has " + args.size()
                        + " conditions, at most " + ArgCondition.MAX_ARGS);
            }
            for (int i = 0; i < args.size(); i++) {
                conditions.add(argument(object(args.get(i), where + ".args[" + i + "]"), where + ".args[" + i + "]"));
            }
        }
        if (!applies(entry, where)) {
            return;
        }
        for (String name : names) {
            boolean valid;
            try {
                new Rule(name, action, List.of());
                valid = true;
            } catch (IllegalArgumentException e) {
                valid = false;
            }
            if (valid && SeccompPolicy.known(name, architectures)) {
                builder.rule(new Rule(name, action, conditions));
            } else {
                builder.skippedName(name);
            }
        }
    }

    /** Docker's includes / excludes, for the architectures compiled for and a sandbox without capabilities. */
    private boolean applies(Map<String, Object> entry, String where) {
        if (entry.get("includes") != null) {
            String at = where + ".includes";
            Map<String, Object> includes = object(entry.get("includes"), at);
            checkKeys(includes, FILTER_KEYS, at);
            if (includes.get("caps") != null && !list(includes.get("caps"), at + ".caps").isEmpty()) {
                return false;
            }
            if (includes.get("arches") != null && !anyFamily(list(includes.get("arches"), at + ".arches"), at)) {
                return false;
            }
        }
        if (entry.get("excludes") != null) {
            String at = where + ".excludes";
            Map<String, Object> excludes = object(entry.get("excludes"), at);
            checkKeys(excludes, FILTER_KEYS, at);
            if (excludes.get("arches") != null && anyFamily(list(excludes.get("arches"), at + ".arches"), at)) {
                return false;
            }
        }
        return true;
    }

    /** Whether a filter's arches name the x86 or arm family of an arch compiled for. */
    private boolean anyFamily(List<Object> arches, String where) {
        for (int i = 0; i < arches.size(); i++) {
            String name = string(arches.get(i), where + ".arches[" + i + "]").toLowerCase(Locale.ROOT);
            if (name.startsWith("scmp_arch_")) {
                name = name.substring("scmp_arch_".length());
            }
            Arch family = switch (name) {
                case "amd64", "x86_64", "x86", "386", "i386", "x32" -> Arch.X86_64;
                case "arm64", "aarch64", "arm" -> Arch.AARCH64;
                default -> null;
            };
            if (family != null && architectures.contains(family)) {
                return true;
            }
        }
        return false;
    }

    private void architecture(String name, String where) {
        switch (name) {
            case "SCMP_ARCH_X86_64" -> architectures.add(Arch.X86_64);
            case "SCMP_ARCH_AARCH64" -> architectures.add(Arch.AARCH64);
            case "SCMP_ARCH_X86", "SCMP_ARCH_X32" -> foreign = true;
            default -> {
                if (!OTHER_ARCHES.contains(name)) {
                    throw new IllegalArgumentException("seccomp profile: " + where + " \"" + name
                            + "\" is not an SCMP_ARCH_* architecture");
                }
            }
        }
    }

    private static Action action(Object value, Object errnoValue, String where, String errnoWhere) {
        if (value == null) {
            throw new IllegalArgumentException("seccomp profile: " + where + " is missing");
        }
        String name = string(value, where);
        if (errnoValue != null && !name.equals("SCMP_ACT_ERRNO") && !name.equals("SCMP_ACT_TRACE")) {
            throw new IllegalArgumentException("seccomp profile: " + errnoWhere + " is only meaningful with"
                    + " SCMP_ACT_ERRNO, not " + name);
        }
        return switch (name) {
            case "SCMP_ACT_ALLOW" -> Action.ALLOW;
            case "SCMP_ACT_ERRNO" -> {
                if (errnoValue == null) {
                    yield Action.errno(DefaultPolicy.EPERM);
                }
                BigInteger errno = integer(errnoValue, errnoWhere);
                if (errno.signum() <= 0 || errno.compareTo(BigInteger.valueOf(Action.MAX_ERRNO)) > 0) {
                    throw new IllegalArgumentException("seccomp profile: " + errnoWhere + " " + errno
                            + " is out of range: it must be 1.." + Action.MAX_ERRNO);
                }
                yield Action.errno(errno.intValue());
            }
            case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD" -> Action.KILL_THREAD;
            case "SCMP_ACT_KILL_PROCESS" -> Action.KILL_PROCESS;
            case "SCMP_ACT_TRAP" -> Action.TRAP;
            case "SCMP_ACT_LOG" -> Action.LOG;
            case "SCMP_ACT_TRACE" -> throw new IllegalArgumentException("seccomp profile: " + where
                    + " SCMP_ACT_TRACE cannot be honoured: no tracer watches a sandbox (use SCMP_ACT_ERRNO)");
            case "SCMP_ACT_NOTIFY" -> throw new IllegalArgumentException("seccomp profile: " + where
                    + " SCMP_ACT_NOTIFY cannot be honoured: there is no seccomp agent to notify");
            default -> throw new IllegalArgumentException("seccomp profile: " + where + " \"" + name
                    + "\" is not an SCMP_ACT_* action");
        };
    }

    private static ArgCondition argument(Map<String, Object> arg, String where) {
        checkKeys(arg, ARG_KEYS, where);
        BigInteger index = integer(required(arg, "index", where), where + ".index");
        if (index.signum() < 0 || index.compareTo(BigInteger.valueOf(ArgCondition.MAX_ARGS - 1)) > 0) {
            throw new IllegalArgumentException("seccomp profile: " + where + ".index " + index
                    + " is out of range: it must be 0.." + (ArgCondition.MAX_ARGS - 1));
        }
        long value = u64(required(arg, "value", where), where + ".value");
        Object twoValue = arg.get("valueTwo");
        long valueTwo = twoValue == null ? 0 : u64(twoValue, where + ".valueTwo");
        String op = string(required(arg, "op", where), where + ".op");
        ArgCondition.Op kind = switch (op) {
            case "SCMP_CMP_EQ" -> ArgCondition.Op.EQ;
            case "SCMP_CMP_NE" -> ArgCondition.Op.NE;
            case "SCMP_CMP_LT" -> ArgCondition.Op.LT;
            case "SCMP_CMP_LE" -> ArgCondition.Op.LE;
            case "SCMP_CMP_GT" -> ArgCondition.Op.GT;
            case "SCMP_CMP_GE" -> ArgCondition.Op.GE;
            case "SCMP_CMP_MASKED_EQ" -> ArgCondition.Op.MASKED_EQ;
            default -> throw new IllegalArgumentException("seccomp profile: " + where + ".op \"" + op
                    + "\" is not an SCMP_CMP_* operator");
        };
        try {
            return kind == ArgCondition.Op.MASKED_EQ
                    ? new ArgCondition(index.intValue(), kind, valueTwo, value)
                    : new ArgCondition(index.intValue(), kind, value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("seccomp profile: " + where + ": " + e.getMessage(), e);
        }
    }

    private static void checkKeys(Map<String, Object> object, Set<String> known, String where) {
        for (String key : object.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException("seccomp profile: " + where + " has an unknown key \"" + key
                        + "\" (known: " + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    private static Object required(Map<String, Object> object, String key, String where) {
        Object value = object.get(key);
        if (value == null) {
            throw new IllegalArgumentException("seccomp profile: " + where + "." + key + " is missing");
        }
        return value;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value, String where) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException("seccomp profile: " + where + " is not a JSON object");
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value, String where) {
        if (!(value instanceof List)) {
            throw new IllegalArgumentException("seccomp profile: " + where + " is not a JSON array");
        }
        return (List<Object>) value;
    }

    private static String string(Object value, String where) {
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException("seccomp profile: " + where + " is not a string");
        }
        return text;
    }

    /** The JSON parser gives integers as Long, and larger ones as BigDecimal. */
    private static BigInteger integer(Object value, String where) {
        if (value instanceof Long number) {
            return BigInteger.valueOf(number);
        }
        if (value instanceof java.math.BigDecimal decimal) {
            try {
                return decimal.toBigIntegerExact();
            } catch (ArithmeticException fraction) {
                // not an integer: refused below
            }
        }
        throw new IllegalArgumentException("seccomp profile: " + where + " is not an integer");
    }

    private static long u64(Object value, String where) {
        BigInteger number = integer(value, where);
        if (number.signum() < 0 || number.compareTo(MAX_U64) > 0) {
            throw new IllegalArgumentException("seccomp profile: " + where + " " + number
                    + " is out of range: it must be 0..18446744073709551615");
        }
        return number.longValue();
    }
}

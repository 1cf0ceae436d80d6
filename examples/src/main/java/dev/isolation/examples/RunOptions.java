package dev.isolation.examples;

import dev.isolation.IdMapping;
import dev.isolation.InvalidSandboxSpecException;
import dev.isolation.Namespace;
import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The command line of {@link Run}, parsed and immutable. Parsing only reads the arguments: it checks their form
 * (and the options that depend on each other) but starts nothing; what the sandbox library itself rejects is
 * reported when the sandbox is built.
 *
 * <p>Options come first, in long GNU style; an option that takes values takes them as the next arguments, taken
 * literally even when they start with '-'. The program starts after {@code --} or at the first argument that is not
 * an option; everything from there on is the program's. A single-valued option given twice keeps its last value.
 */
public final class RunOptions {
    /** The name the runner goes by in messages and in the usage text. */
    static final String NAME = "isolation-run";

    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,19}");

    private final boolean help;
    private final List<String> command;
    private final Set<Namespace> namespaces;
    private final String hostname;
    private final List<IdMapping> uidMappings;
    private final List<IdMapping> gidMappings;
    private final String directory;
    private final boolean inheritEnvironment;
    private final List<String> inheritedVariables;
    private final Map<String, String> environment;
    private final Redirect stdin;
    private final Redirect stdout;
    private final Redirect stderr;
    private final boolean mergeStderr;
    private final boolean printOutcome;

    private RunOptions(Parser parser) {
        help = parser.help;
        command = List.copyOf(parser.command);
        namespaces = Collections.unmodifiableSet(EnumSet.copyOf(parser.namespaces));
        hostname = parser.hostname;
        uidMappings = List.copyOf(parser.uidMappings);
        gidMappings = List.copyOf(parser.gidMappings);
        directory = parser.directory;
        inheritEnvironment = parser.inheritEnvironment;
        inheritedVariables = List.copyOf(parser.inheritedVariables);
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(parser.environment));
        stdin = parser.stdin;
        stdout = parser.stdout;
        stderr = parser.stderr;
        mergeStderr = parser.mergeStderr;
        printOutcome = parser.printOutcome;
    }

    /**
     * Parses a command line.
     *
     * @throws UsageException naming the option at fault, or saying that no program was given
     */
    public static RunOptions parse(String... args) throws UsageException {
        Parser parser = new Parser();
        parser.parse(List.of(args));
        return new RunOptions(parser);
    }

    /** {@code --help} or {@code -h} was given: print {@link #usage()} and run nothing (the command may be empty). */
    public boolean help() {
        return help;
    }

    /** The program and its arguments; never empty unless {@link #help()}. */
    public List<String> command() {
        return command;
    }

    /** The namespaces asked for, all of them after {@code --unshare-all}; UTS is implied by {@code --hostname}. */
    public Set<Namespace> namespaces() {
        return namespaces;
    }

    public Optional<String> hostname() {
        return Optional.ofNullable(hostname);
    }

    public List<IdMapping> uidMappings() {
        return uidMappings;
    }

    public List<IdMapping> gidMappings() {
        return gidMappings;
    }

    /** The working directory inside ({@code --chdir}). */
    public Optional<String> directory() {
        return Optional.ofNullable(directory);
    }

    /** {@code --inherit-env}: the whole environment of the JVM is passed in. */
    public boolean inheritEnvironment() {
        return inheritEnvironment;
    }

    /** The names given with {@code --inherit-env-var}, in order. */
    public List<String> inheritedVariables() {
        return inheritedVariables;
    }

    /** The variables given with {@code --setenv}, in order; they override inherited ones. */
    public Map<String, String> environment() {
        return environment;
    }

    /** Where the program's standard input comes from: {@link Redirect#INHERIT} unless {@code --stdin}. */
    public Redirect stdin() {
        return stdin;
    }

    public Redirect stdout() {
        return stdout;
    }

    public Redirect stderr() {
        return stderr;
    }

    /** {@code --merge-stderr}: the program's standard error goes wherever its standard output goes. */
    public boolean mergeStderr() {
        return mergeStderr;
    }

    /** {@code --outcome}: describe how the program ended on the runner's standard error. */
    public boolean printOutcome() {
        return printOutcome;
    }

    @Override
    public String toString() {
        return "RunOptions[help=" + help + ", command=" + command + ", namespaces=" + namespaces + ", hostname="
                + hostname + ", uidMappings=" + uidMappings + ", gidMappings=" + gidMappings + ", directory="
                + directory + ", inheritEnvironment=" + inheritEnvironment + ", inheritedVariables="
                + inheritedVariables + ", environment=" + environment.keySet() + ", stdin=" + stdin + ", stdout="
                + stdout + ", stderr=" + stderr + ", mergeStderr=" + mergeStderr + ", printOutcome="
                + printOutcome + "]";
    }

    /** The usage text {@code --help} prints: every option, generated from the same table the parser uses. */
    public static String usage() {
        StringBuilder text = new StringBuilder();
        text.append("Usage: java -jar isolation-run.jar [options] [--] program [args...]\n")
                .append("\n")
                .append("Runs a program inside Linux namespaces and exits with its exit value.\n")
                .append("The program starts after '--' or at the first argument that is not an option.\n")
                .append("Its standard streams are the runner's own unless redirected. Its environment holds\n")
                .append("only PATH unless variables are set or inherited.\n")
                .append("\n")
                .append("Options:\n");
        int width = 0;
        for (OptionSpec option : OPTIONS) {
            width = Math.max(width, option.synopsis().length());
        }
        for (OptionSpec option : OPTIONS) {
            String synopsis = option.synopsis();
            text.append("  ").append(synopsis).append(" ".repeat(width - synopsis.length() + 2))
                    .append(option.description()).append('\n');
        }
        text.append("\n")
                .append("Exit status:\n")
                .append("  the program's exit value: its exit code, or 128 + the signal that killed it\n")
                .append("  2    bad usage, or a setting the sandbox rejects\n")
                .append("  125  the sandbox could not be started\n");
        return text.toString();
    }

    /** What an option does to the parser with its values. */
    @FunctionalInterface
    private interface Action {
        void apply(Parser parser, String option, List<String> values) throws UsageException;
    }

    /** One option: its names (the first one is shown first), the names of its values, its help line and its action. */
    private record OptionSpec(List<String> names, List<String> parameters, String description, Action action) {
        String synopsis() {
            StringBuilder synopsis = new StringBuilder(String.join(", ", names));
            parameters.forEach(parameter -> synopsis.append(' ').append(parameter));
            return synopsis.toString();
        }
    }

    private static OptionSpec option(String name, String description, Action action, String... parameters) {
        return new OptionSpec(List.of(name), List.of(parameters), description, action);
    }

    private static OptionSpec unshare(String name, Namespace namespace, String description) {
        return option(name, description, (parser, option, values) -> parser.namespaces.add(namespace));
    }

    private static final List<OptionSpec> OPTIONS = List.of(
            option("--unshare-all", "all namespaces, each with its secure default",
                    (parser, option, values) -> parser.namespaces.addAll(EnumSet.allOf(Namespace.class))),
            unshare("--unshare-user", Namespace.USER,
                    "user namespace; maps your uid and gid to root inside unless mapped"),
            unshare("--unshare-pid", Namespace.PID, "pid namespace: the program sees only its own processes"),
            unshare("--unshare-mount", Namespace.MOUNT, "mount namespace: a private mount table"),
            unshare("--unshare-uts", Namespace.UTS, "UTS namespace: its own host name (default \"sandbox\")"),
            unshare("--unshare-ipc", Namespace.IPC, "IPC namespace: private System V IPC and message queues"),
            unshare("--unshare-net", Namespace.NETWORK, "network namespace: only a loopback device"),
            unshare("--unshare-cgroup", Namespace.CGROUP, "cgroup namespace"),
            unshare("--unshare-time", Namespace.TIME, "time namespace"),
            option("--hostname", "host name inside (implies --unshare-uts)", (parser, option, values) -> {
                parser.hostname = values.get(0);
                parser.namespaces.add(Namespace.UTS);
            }, "NAME"),
            option("--uid-map", "a uid_map line; repeatable; needs --unshare-user or --unshare-all",
                    (parser, option, values) -> parser.uidMappings.add(idMapping(option, values.get(0))),
                    "INSIDE:OUTSIDE:COUNT"),
            option("--gid-map", "a gid_map line; repeatable; needs --unshare-user or --unshare-all",
                    (parser, option, values) -> parser.gidMappings.add(idMapping(option, values.get(0))),
                    "INSIDE:OUTSIDE:COUNT"),
            option("--chdir", "working directory inside (an absolute path)",
                    (parser, option, values) -> parser.directory = values.get(0), "DIR"),
            option("--setenv", "set an environment variable; repeatable", (parser, option, values) -> {
                String name = values.get(0);
                if (name.isEmpty() || name.indexOf('=') >= 0) {
                    throw new UsageException(option, option + ": \"" + name
                            + "\" is not a variable name (it must be non-empty and have no '=')");
                }
                parser.environment.put(name, values.get(1));
            }, "NAME", "VALUE"),
            option("--inherit-env", "pass the runner's whole environment in",
                    (parser, option, values) -> parser.inheritEnvironment = true),
            option("--inherit-env-var", "pass one variable of the runner's environment in, if set; repeatable",
                    (parser, option, values) -> parser.inheritedVariables.add(values.get(0)), "NAME"),
            option("--stdin", "read standard input from FILE",
                    (parser, option, values) -> parser.stdin = Redirect.from(file(option, values.get(0))), "FILE"),
            option("--stdout", "write standard output to FILE, truncating it",
                    (parser, option, values) -> parser.stdout = Redirect.to(file(option, values.get(0))), "FILE"),
            option("--stdout-append", "append standard output to FILE",
                    (parser, option, values) -> parser.stdout = Redirect.appendTo(file(option, values.get(0))),
                    "FILE"),
            option("--stderr", "write standard error to FILE, truncating it",
                    (parser, option, values) -> parser.redirectError(option, Redirect.to(file(option, values.get(0)))),
                    "FILE"),
            option("--stderr-append", "append standard error to FILE",
                    (parser, option, values) -> parser.redirectError(option,
                            Redirect.appendTo(file(option, values.get(0)))), "FILE"),
            option("--merge-stderr", "send standard error wherever standard output goes",
                    (parser, option, values) -> parser.mergeStderr = true),
            option("--outcome", "when the program ends, say how on the runner's standard error",
                    (parser, option, values) -> parser.printOutcome = true),
            new OptionSpec(List.of("--help", "-h"), List.of(), "show this help and exit",
                    (parser, option, values) -> parser.help = true));

    /** Every option name the parser knows, for tests and help. */
    static List<String> optionNames() {
        List<String> names = new ArrayList<>();
        OPTIONS.forEach(option -> names.addAll(option.names()));
        return names;
    }

    private static OptionSpec lookup(String name) {
        for (OptionSpec option : OPTIONS) {
            if (option.names().contains(name)) {
                return option;
            }
        }
        return null;
    }

    private static File file(String option, String path) throws UsageException {
        if (path.isEmpty()) {
            throw new UsageException(option, option + ": the file name is empty");
        }
        return new File(path);
    }

    /** Parses {@code INSIDE:OUTSIDE:COUNT}, three unsigned decimal numbers. */
    private static IdMapping idMapping(String option, String text) throws UsageException {
        String[] parts = text.split(":", -1);
        if (parts.length != 3 || !Arrays.stream(parts).allMatch(part -> DECIMAL.matcher(part).matches())) {
            throw new UsageException(option, option + ": \"" + text
                    + "\" is not a mapping: expected INSIDE:OUTSIDE:COUNT, three decimal numbers");
        }
        try {
            return new IdMapping(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2]));
        } catch (NumberFormatException e) {
            throw new UsageException(option, option + ": \"" + text + "\" has a number that is too large");
        } catch (InvalidSandboxSpecException e) {
            throw new UsageException(option, option + ": \"" + text + "\": " + e.getMessage());
        }
    }

    /** The mutable state of one parse. */
    private static final class Parser {
        boolean help;
        List<String> command = List.of();
        final EnumSet<Namespace> namespaces = EnumSet.noneOf(Namespace.class);
        String hostname;
        final List<IdMapping> uidMappings = new ArrayList<>();
        final List<IdMapping> gidMappings = new ArrayList<>();
        String directory;
        boolean inheritEnvironment;
        final List<String> inheritedVariables = new ArrayList<>();
        final Map<String, String> environment = new LinkedHashMap<>();
        Redirect stdin = Redirect.INHERIT;
        Redirect stdout = Redirect.INHERIT;
        Redirect stderr = Redirect.INHERIT;
        boolean mergeStderr;
        boolean printOutcome;
        String stderrOption;

        void parse(List<String> args) throws UsageException {
            boolean sawSeparator = false;
            int i = 0;
            while (i < args.size()) {
                String arg = args.get(i);
                if (arg.equals("--")) {
                    sawSeparator = true;
                    i++;
                    break;
                }
                if (!arg.startsWith("-") || arg.equals("-")) {
                    break; // the first non-option argument is the program
                }
                OptionSpec option = lookup(arg);
                if (option == null) {
                    throw new UsageException(arg, "unknown option " + arg);
                }
                int count = option.parameters().size();
                if (i + count >= args.size()) {
                    throw new UsageException(arg, "option " + arg + " needs " + (count == 1 ? "a value" : count
                            + " values") + ": " + option.synopsis());
                }
                option.action().apply(this, arg, args.subList(i + 1, i + 1 + count));
                if (help) {
                    return; // --help wins over whatever follows
                }
                i += 1 + count;
            }
            command = args.subList(i, args.size());
            if (command.isEmpty()) {
                throw sawSeparator
                        ? new UsageException("--", "no program given after --")
                        : new UsageException(null, "no program given");
            }
            requireUserNamespace("--uid-map", uidMappings);
            requireUserNamespace("--gid-map", gidMappings);
            if (mergeStderr && stderrOption != null) {
                throw new UsageException("--merge-stderr", "--merge-stderr conflicts with " + stderrOption
                        + ": standard error cannot go to both");
            }
        }

        void redirectError(String option, Redirect destination) {
            stderr = destination;
            stderrOption = option;
        }

        private void requireUserNamespace(String option, List<IdMapping> mappings) throws UsageException {
            if (!mappings.isEmpty() && !namespaces.contains(Namespace.USER)) {
                throw new UsageException(option, option + " needs --unshare-user or --unshare-all");
            }
        }
    }
}

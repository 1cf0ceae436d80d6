package dev.isolation.seccomp;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Which syscalls a sandboxed program may make: a default action, and rules by syscall name that override it.
 * Immutable; built by {@link #builder()}, taken from {@link #defaultPolicy()}, or imported from an OCI / Docker
 * profile by {@link #fromOciJson(String)}. {@link SeccompCompiler} turns it into a program for one {@link Arch}.
 *
 * <p>Rules are tried in the order they were added, among those of the syscall being made: the first whose
 * argument conditions all hold decides. A syscall with no matching rule gets the default action, except a syscall
 * newer than the tables: see {@link #unknownSyscalls()}.
 *
 * <p>A rule's syscall must be known to the tables of at least one target architecture, counting the foreign
 * ABIs (i386, x32) of x86_64; for each ABI the rules of syscalls it does not have are left out (there is no
 * {@code stime} on x86_64, no {@code iopl} on aarch64).
 */
public final class SeccompPolicy {
    private final Action defaultAction;
    private final Action unknownSyscalls;
    private final List<Rule> rules;
    private final boolean allowForeignAbi;
    private final Set<Arch> architectures;
    private final List<String> skippedNames;

    private SeccompPolicy(Builder builder) {
        this.defaultAction = builder.defaultAction;
        this.unknownSyscalls = builder.unknownSyscalls;
        this.rules = List.copyOf(builder.rules);
        this.allowForeignAbi = builder.allowForeignAbi;
        this.architectures = Collections.unmodifiableSet(EnumSet.copyOf(builder.architectures));
        this.skippedNames = List.copyOf(builder.skippedNames);
    }

    /**
     * A builder with no default action yet, no rules, syscalls newer than the tables refused with ENOSYS, foreign
     * ABIs refused, and both architectures.
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * What a sandbox gets unless it asks for something else: every syscall allowed except what container runtimes
     * refuse by default (the kernel keyring, modules, kexec, reboot, swap, bpf, perf, userfaultfd, file handles,
     * every way of mounting, setting the clocks, personality tricks, io_uring, accounting, quotas, the kernel log,
     * I/O ports and obsolete calls), syscalls newer than the tables refused with ENOSYS, and no foreign ABI. See
     * {@link DefaultPolicy} for the list with the errno of each: EPERM, or ENOSYS where callers take ENOSYS as "use
     * the fallback".
     */
    public static SeccompPolicy defaultPolicy() {
        return DefaultPolicy.POLICY;
    }

    /**
     * Imports a seccomp profile in the OCI runtime-spec format ({@code linux.seccomp} of a config.json), which is
     * also Docker's and Podman's profile format ({@code archMap}, {@code includes} and {@code excludes} included).
     * Syscall names that none of the profile's architectures knows are skipped, as runtimes do for names of other
     * kernels, and listed by {@link #skippedNames()}. Syscalls newer than the tables get the profile's
     * {@code defaultAction}, as every syscall the profile does not list does. See {@link OciProfile} for how each
     * field maps.
     *
     * @throws IllegalArgumentException for malformed JSON, an unknown field, or a value that cannot be honoured
     *     (SCMP_ACT_TRACE, SCMP_ACT_NOTIFY, filter flags), naming the field
     */
    public static SeccompPolicy fromOciJson(String json) {
        return OciProfile.parse(json);
    }

    /** A builder holding this policy's settings, to derive another from it; added rules come after these. */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.defaultAction = defaultAction;
        builder.unknownSyscalls = unknownSyscalls;
        builder.rules.addAll(rules);
        builder.allowForeignAbi = allowForeignAbi;
        builder.architectures = EnumSet.copyOf(architectures);
        builder.skippedNames.addAll(skippedNames);
        return builder;
    }

    /** The action for a syscall no rule matches. */
    public Action defaultAction() {
        return defaultAction;
    }

    /**
     * The action for a syscall newer than the tables ({@link Arch#headersVersion()}), which no rule can name: a
     * call whose number is above every number of its ABI's table (for x32 also one between the syscalls it shares
     * with x86_64 and its own, numbered from 512). A kernel newer than the tables has such syscalls; a kernel as old
     * as the tables answers them with ENOSYS, which is the default here, so that a deny list does not let a new
     * syscall through unfiltered and programs fall back as they would on the older kernel. Number -1, which a
     * tracer sets to skip a syscall, is no syscall and keeps the default action.
     */
    public Action unknownSyscalls() {
        return unknownSyscalls;
    }

    /** The rules, in the order they are tried. */
    public List<Rule> rules() {
        return rules;
    }

    /** Whether calls of the foreign ABIs (i386 and x32 on x86_64) are let through the same rules, or killed. */
    public boolean allowForeignAbi() {
        return allowForeignAbi;
    }

    /** The architectures the policy can be compiled for. */
    public Set<Arch> architectures() {
        return architectures;
    }

    /** Syscall names of an imported profile that no table of its architectures knows, in order; else empty. */
    public List<String> skippedNames() {
        return skippedNames;
    }

    /** The action this policy gives a native call of the syscall with these arguments (the rules' semantics). */
    public Action decide(String syscall, long... args) {
        for (Rule rule : rules) {
            if (rule.syscall().equals(syscall) && rule.matches(args)) {
                return rule.action();
            }
        }
        return defaultAction;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SeccompPolicy policy
                && policy.defaultAction.equals(defaultAction)
                && policy.unknownSyscalls.equals(unknownSyscalls)
                && policy.rules.equals(rules)
                && policy.allowForeignAbi == allowForeignAbi
                && policy.architectures.equals(architectures)
                && policy.skippedNames.equals(skippedNames);
    }

    @Override
    public int hashCode() {
        return Objects.hash(defaultAction, unknownSyscalls, rules, allowForeignAbi, architectures, skippedNames);
    }

    @Override
    public String toString() {
        return "SeccompPolicy[default " + defaultAction + ", syscalls newer than the tables " + unknownSyscalls
                + ", " + rules.size() + " rules, architectures " + architectures
                + (allowForeignAbi ? ", foreign ABIs allowed" : "") + "]";
    }

    /** Whether some ABI of these architectures has the syscall. */
    static boolean known(String syscall, Collection<Arch> architectures) {
        for (Arch arch : architectures) {
            if (arch.knows(syscall)) {
                return true;
            }
        }
        return false;
    }

    /** "the syscall tables of x86_64 (x86_64, x32, i386) or aarch64". */
    static String describeTables(Collection<Arch> architectures) {
        StringJoiner joiner = new StringJoiner(" or ", "the syscall tables of ", " (kernel headers "
                + Arch.headersVersion() + ")");
        for (Arch arch : architectures) {
            if (arch.foreignAbis().isEmpty()) {
                joiner.add(arch.toString());
            } else {
                StringJoiner abis = new StringJoiner(", ", arch + " (", ")");
                abis.add(arch.nativeAbi().label());
                arch.foreignAbis().forEach(abi -> abis.add(abi.label()));
                joiner.add(abis.toString());
            }
        }
        return joiner.toString();
    }

    /**
     * Builds a {@link SeccompPolicy}. Every value is checked when it is set; {@link #build()} checks them together
     * and needs a default action.
     */
    public static final class Builder {
        private Action defaultAction;
        private Action unknownSyscalls = Action.errno(DefaultPolicy.ENOSYS);
        private final List<Rule> rules = new ArrayList<>();
        private boolean allowForeignAbi;
        private EnumSet<Arch> architectures = EnumSet.allOf(Arch.class);
        private final Set<String> skippedNames = new LinkedHashSet<>();

        private Builder() {
        }

        /** The action for syscalls no rule matches. Required. */
        public Builder defaultAction(Action action) {
            if (action == null) {
                throw new IllegalArgumentException("defaultAction == null");
            }
            this.defaultAction = action;
            return this;
        }

        /**
         * The action for syscalls newer than the tables, which no rule can name (see
         * {@link SeccompPolicy#unknownSyscalls()}). Default: {@code Action.errno(38)}, ENOSYS, whatever the default
         * action: a kernel of the tables' version would answer ENOSYS, libc and language runtimes take it as "not
         * here" and fall back, and no syscall that nobody could vet runs. Set it to the default action for the
         * default action to decide them too: {@code Action.ALLOW} to let a new kernel's syscalls through a deny
         * list, or, for an allow list, its own errno or kill.
         */
        public Builder unknownSyscalls(Action action) {
            if (action == null) {
                throw new IllegalArgumentException("unknownSyscalls == null");
            }
            this.unknownSyscalls = action;
            return this;
        }

        /**
         * Adds a rule, tried after those already added.
         *
         * @throws IllegalArgumentException when no table of the architectures knows the syscall, naming it
         */
        public Builder rule(Rule rule) {
            if (rule == null) {
                throw new IllegalArgumentException("rule == null");
            }
            requireKnown(rule.syscall(), architectures);
            rules.add(rule);
            return this;
        }

        /** Adds the rules in order, as {@link #rule(Rule)} does one. */
        public Builder rules(Collection<Rule> rules) {
            if (rules == null) {
                throw new IllegalArgumentException("rules == null");
            }
            rules.forEach(this::rule);
            return this;
        }

        /**
         * Whether calls of the foreign ABIs reach the rules (default false: they kill the process). On x86_64 these
         * are i386 calls (a 32-bit program, or {@code int 0x80}) and x32 calls; each is judged by the same rules
         * through its own syscall table. aarch64 has no foreign ABI that can be filtered here: AArch32 calls are
         * always killed, whatever this says.
         */
        public Builder allowForeignAbi(boolean allow) {
            this.allowForeignAbi = allow;
            return this;
        }

        /** The architectures the policy may be compiled for (default: all of {@link Arch}). */
        public Builder architectures(Arch... architectures) {
            if (architectures == null) {
                throw new IllegalArgumentException("architectures == null");
            }
            return architectures(List.of(architectures.clone()));
        }

        /** The architectures the policy may be compiled for (default: all of {@link Arch}). */
        public Builder architectures(Collection<Arch> architectures) {
            if (architectures == null) {
                throw new IllegalArgumentException("architectures == null");
            }
            if (architectures.isEmpty()) {
                throw new IllegalArgumentException("architectures is empty: name at least one");
            }
            for (Arch arch : architectures) {
                if (arch == null) {
                    throw new IllegalArgumentException("architectures: an element is null");
                }
            }
            this.architectures = EnumSet.copyOf(architectures);
            return this;
        }

        Builder skippedName(String name) {
            skippedNames.add(name);
            return this;
        }

        /**
         * The policy.
         *
         * @throws IllegalStateException when no default action was set
         * @throws IllegalArgumentException when a rule's syscall is unknown to the architectures set last
         */
        public SeccompPolicy build() {
            if (defaultAction == null) {
                throw new IllegalStateException("defaultAction is not set: say what happens to syscalls no rule"
                        + " matches (Action.ALLOW for a deny list, Action.errno(1) for an allow list)");
            }
            for (Rule rule : rules) {
                requireKnown(rule.syscall(), architectures);
            }
            return new SeccompPolicy(this);
        }

        private static void requireKnown(String syscall, Set<Arch> architectures) {
            if (!known(syscall, architectures)) {
                throw new IllegalArgumentException("syscall \"" + syscall + "\" is not in "
                        + describeTables(architectures));
            }
        }
    }
}

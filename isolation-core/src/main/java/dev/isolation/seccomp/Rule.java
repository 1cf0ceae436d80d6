package dev.isolation.seccomp;

import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A syscall, by name, the action for it, and the argument conditions that must all hold for the rule to apply.
 * A rule without conditions applies to every call of the syscall. In a {@link SeccompPolicy} the first rule of a
 * syscall whose conditions hold decides; when none does, the policy's default action does.
 *
 * <p>The name is checked against the syscall tables when the rule is added to a {@link SeccompPolicy.Builder}.
 *
 * @param syscall the syscall's name as in the kernel's tables ({@code openat}, {@code _sysctl})
 * @param action what to do
 * @param conditions at most {@value ArgCondition#MAX_ARGS}, all of which must hold
 */
public record Rule(String syscall, Action action, List<ArgCondition> conditions) {
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]*");

    public Rule {
        if (syscall == null) {
            throw new IllegalArgumentException("syscall == null");
        }
        if (!NAME.matcher(syscall).matches()) {
            throw new IllegalArgumentException("syscall \"" + syscall
                    + "\": not a syscall name (lower-case letters, digits and '_')");
        }
        if (action == null) {
            throw new IllegalArgumentException("rule for syscall \"" + syscall + "\": action == null");
        }
        if (conditions == null) {
            throw new IllegalArgumentException("rule for syscall \"" + syscall + "\": conditions == null");
        }
        if (conditions.size() > ArgCondition.MAX_ARGS) {
            throw new IllegalArgumentException("rule for syscall \"" + syscall + "\": " + conditions.size()
                    + " argument conditions, at most " + ArgCondition.MAX_ARGS);
        }
        for (ArgCondition condition : conditions) {
            if (condition == null) {
                throw new IllegalArgumentException("rule for syscall \"" + syscall + "\": a condition is null");
            }
        }
        conditions = List.copyOf(conditions);
    }

    /** A rule for the syscall; without conditions it applies to every call. */
    public static Rule of(String syscall, Action action, ArgCondition... conditions) {
        if (conditions == null) {
            throw new IllegalArgumentException("rule for syscall \"" + syscall + "\": conditions == null");
        }
        return new Rule(syscall, action, Arrays.asList(conditions));
    }

    /** Whether the rule applies to a call with these arguments. */
    public boolean matches(long... args) {
        for (ArgCondition condition : conditions) {
            if (!condition.test(condition.index() < args.length ? args[condition.index()] : 0)) {
                return false;
            }
        }
        return true;
    }

    /** {@code personality if (arg0 & 0xffffffff) == 0x8 -> ALLOW}. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(syscall);
        for (int i = 0; i < conditions.size(); i++) {
            text.append(i == 0 ? " if " : " && ").append(conditions.get(i));
        }
        return text.append(" -> ").append(action).toString();
    }
}

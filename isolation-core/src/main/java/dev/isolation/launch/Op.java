package dev.isolation.launch;

import dev.isolation.Protection;
import java.util.List;
import java.util.Objects;

/**
 * One operation of a launch plan: a type, two numbers and a list of strings, whose meaning the type fixes
 * (see helper.h). {@code subject} is the path or value a person reads in an error about this step.
 * {@code bestEffortFor}, when not null, is the protection the caller marked best-effort that this step applies:
 * if it fails, the helper reports a downgrade and goes on instead of failing the start.
 */
public record Op(OpType type, long num0, long num1, List<String> strings, String subject, Protection bestEffortFor) {
    public Op {
        Objects.requireNonNull(type, "type");
        strings = List.copyOf(strings);
        Objects.requireNonNull(subject, "subject");
    }

    public Op(OpType type, long num0, long num1, List<String> strings, String subject) {
        this(type, num0, num1, strings, subject, null);
    }

    static Op of(OpType type, String subject, String... strings) {
        return new Op(type, 0, 0, List.of(strings), subject);
    }

    /** This step, skipped with a downgrade report if it fails. */
    Op bestEffort(Protection protection) {
        return new Op(type, num0, num1, strings, subject, Objects.requireNonNull(protection, "protection"));
    }
}

package dev.isolation.launch;

import java.util.List;
import java.util.Objects;

/**
 * One operation of a launch plan: a type, two numbers and a list of strings, whose meaning the type fixes
 * (see helper.h). {@code subject} is the path or value a person reads in an error about this step.
 */
public record Op(OpType type, long num0, long num1, List<String> strings, String subject) {
    public Op {
        Objects.requireNonNull(type, "type");
        strings = List.copyOf(strings);
        Objects.requireNonNull(subject, "subject");
    }

    static Op of(OpType type, String subject, String... strings) {
        return new Op(type, 0, 0, List.of(strings), subject);
    }
}

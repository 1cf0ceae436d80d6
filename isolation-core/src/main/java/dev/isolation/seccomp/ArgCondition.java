package dev.isolation.seccomp;

/**
 * A test on one argument of a syscall: {@code args[index] op value}, or for {@link Op#MASKED_EQ}
 * {@code (args[index] & mask) == value}. Arguments are compared as unsigned 64-bit values, as the kernel stores
 * them in {@code seccomp_data.args} (the program compares the high and the low 32-bit halves).
 *
 * <p>An argument the kernel reads as a 32-bit {@code int} may carry anything in its high half, or the sign
 * extension of a negative value; test such an argument with {@code MASKED_EQ} and the mask {@code 0xffffffffL}.
 *
 * @param index which argument, 0..5
 * @param op the comparison
 * @param value the value compared with (for {@code MASKED_EQ}, with the masked argument)
 * @param mask for {@code MASKED_EQ} the bits of the argument that count; -1 (all bits) for the other ops
 */
public record ArgCondition(int index, Op op, long value, long mask) {
    /** The comparisons, named as in OCI profiles without their {@code SCMP_CMP_} prefix. */
    public enum Op {
        EQ, NE, LT, LE, GT, GE, MASKED_EQ
    }

    /** The number of arguments a syscall has in {@code seccomp_data}. */
    public static final int MAX_ARGS = 6;

    public ArgCondition {
        if (index < 0 || index >= MAX_ARGS) {
            throw new IllegalArgumentException("argument index " + index + " is out of range: it must be 0.."
                    + (MAX_ARGS - 1));
        }
        if (op == null) {
            throw new IllegalArgumentException("argument " + index + ": op == null");
        }
        if (op != Op.MASKED_EQ && mask != -1L) {
            throw new IllegalArgumentException("argument " + index + ": a mask (0x" + Long.toHexString(mask)
                    + ") is only meaningful with MASKED_EQ, not " + op);
        }
        if (op == Op.MASKED_EQ && (value & ~mask) != 0) {
            throw new IllegalArgumentException("argument " + index + ": MASKED_EQ value 0x" + Long.toHexString(value)
                    + " has bits outside the mask 0x" + Long.toHexString(mask) + ", so it could never match");
        }
    }

    /** A condition without a mask ({@code MASKED_EQ} with this constructor compares all 64 bits, like EQ). */
    public ArgCondition(int index, Op op, long value) {
        this(index, op, value, -1L);
    }

    public static ArgCondition eq(int index, long value) {
        return new ArgCondition(index, Op.EQ, value);
    }

    public static ArgCondition ne(int index, long value) {
        return new ArgCondition(index, Op.NE, value);
    }

    public static ArgCondition lt(int index, long value) {
        return new ArgCondition(index, Op.LT, value);
    }

    public static ArgCondition le(int index, long value) {
        return new ArgCondition(index, Op.LE, value);
    }

    public static ArgCondition gt(int index, long value) {
        return new ArgCondition(index, Op.GT, value);
    }

    public static ArgCondition ge(int index, long value) {
        return new ArgCondition(index, Op.GE, value);
    }

    /** {@code (args[index] & mask) == value}. */
    public static ArgCondition maskedEq(int index, long value, long mask) {
        return new ArgCondition(index, Op.MASKED_EQ, value, mask);
    }

    /** Whether an argument value satisfies the condition (what the compiled program decides). */
    public boolean test(long argument) {
        return switch (op) {
            case EQ -> argument == value;
            case NE -> argument != value;
            case LT -> Long.compareUnsigned(argument, value) < 0;
            case LE -> Long.compareUnsigned(argument, value) <= 0;
            case GT -> Long.compareUnsigned(argument, value) > 0;
            case GE -> Long.compareUnsigned(argument, value) >= 0;
            case MASKED_EQ -> (argument & mask) == value;
        };
    }

    /** {@code arg0 == 0x8}, {@code (arg1 & 0xffffffff) == 0x0}. */
    @Override
    public String toString() {
        String hex = "0x" + Long.toHexString(value);
        return switch (op) {
            case EQ -> "arg" + index + " == " + hex;
            case NE -> "arg" + index + " != " + hex;
            case LT -> "arg" + index + " < " + hex;
            case LE -> "arg" + index + " <= " + hex;
            case GT -> "arg" + index + " > " + hex;
            case GE -> "arg" + index + " >= " + hex;
            case MASKED_EQ -> "(arg" + index + " & 0x" + Long.toHexString(mask) + ") == " + hex;
        };
    }
}

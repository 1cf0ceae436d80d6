package dev.isolation.launch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An ordered, immutable list of operations for the native helper, and its encoding on the wire as one
 * length-prefixed frame ({@link #encode()}). Native byte order: the helper runs on the same machine.
 */
public record Plan(List<Op> ops) {
    private static final int FRAME_HEADER = 16;
    private static final int OP_HEADER = 24;
    /** A string's length before its bytes, its NUL after them. */
    private static final int STRING_OVERHEAD = 5;

    public Plan {
        ops = List.copyOf(ops);
        int first = !ops.isEmpty() && ops.get(0).type() == OpType.JOIN_NAMESPACES ? 1 : 0;
        boolean environment = ops.size() > first && ops.get(first).type() == OpType.CLONE
                && ops.get(first).num1() == PlanFactory.CLONE_ENVIRONMENT;
        if (ops.size() <= first || ops.get(first).type() != OpType.CLONE
                || !(environment || ops.get(ops.size() - 1).type() == OpType.EXEC)) {
            throw new IllegalArgumentException("a plan starts with CLONE (after a join) and ends with EXEC, unless it"
                    + " is an environment's: " + ops);
        }
    }

    /**
     * This plan for a ready sandbox: set up ahead of its start, its child waits, before anything of the program's
     * phase, for the program's stdin, stdout and stderr ({@link ReadyLaunch#start()}).
     */
    Plan readied() {
        int first = ops.get(0).type() == OpType.JOIN_NAMESPACES ? 1 : 0;
        Op clone = ops.get(first);
        if (clone.num1() != 0) {
            throw new IllegalArgumentException("only a program's plan can be readied, not " + clone);
        }
        List<Op> readied = new ArrayList<>(ops);
        readied.set(first, new Op(clone.type(), clone.num0(), PlanFactory.CLONE_READY, clone.strings(),
                clone.subject(), clone.bestEffortFor()));
        return new Plan(readied);
    }

    public Op step(int index) {
        return ops.get(index);
    }

    /**
     * The plan as one frame, which the helper reads in two reads: a header (magic, version, op count, body length in
     * bytes), then the body: per op its type (or'ed with {@link Wire#OP_FLAG_BEST_EFFORT}), string count, two 64-bit
     * numbers and its strings, each as a length, its UTF-8 bytes and a NUL (the helper uses them where they lie).
     */
    byte[] encode() {
        List<byte[][]> strings = new ArrayList<>(ops.size());
        int bodyLength = 0;
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            byte[][] encoded = new byte[op.strings().size()][];
            for (int s = 0; s < encoded.length; s++) {
                String string = op.strings().get(s);
                if (string.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("step " + i + " (" + op.type() + " " + op.subject()
                            + "): string " + s + " contains a NUL character");
                }
                encoded[s] = string.getBytes(StandardCharsets.UTF_8);
                bodyLength = Math.addExact(bodyLength, encoded[s].length + STRING_OVERHEAD);
            }
            strings.add(encoded);
            bodyLength = Math.addExact(bodyLength, OP_HEADER);
        }
        ByteBuffer frame = ByteBuffer.allocate(Math.addExact(FRAME_HEADER, bodyLength)).order(ByteOrder.nativeOrder());
        frame.putInt(Wire.MAGIC).putInt(Wire.VERSION).putInt(ops.size()).putInt(bodyLength);
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            frame.putInt(op.type().wireCode() | (op.bestEffortFor() != null ? Wire.OP_FLAG_BEST_EFFORT : 0))
                    .putInt(op.strings().size()).putLong(op.num0()).putLong(op.num1());
            for (byte[] bytes : strings.get(i)) {
                frame.putInt(bytes.length).put(bytes).put((byte) 0);
            }
        }
        return frame.array();
    }
}

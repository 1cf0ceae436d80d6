package dev.isolation.launch;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An ordered, immutable list of operations for the native helper, and its encoding on the wire:
 * header (magic, version, count), then per op: type, string count, two 64-bit numbers, strings (length, bytes).
 * Native byte order: the helper runs on the same machine.
 */
public record Plan(List<Op> ops) {
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

    public Op step(int index) {
        return ops.get(index);
    }

    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        ByteBuffer header = buffer(12).putInt(Wire.MAGIC).putInt(Wire.VERSION).putInt(ops.size());
        out.writeBytes(header.array());
        for (Op op : ops) {
            out.writeBytes(buffer(24).putInt(op.type().wireCode() | (op.bestEffortFor() != null ? Wire.OP_FLAG_BEST_EFFORT : 0)).putInt(op.strings().size())
                    .putLong(op.num0()).putLong(op.num1()).array());
            for (String s : op.strings()) {
                byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
                out.writeBytes(buffer(4).putInt(bytes.length).array());
                out.writeBytes(bytes);
            }
        }
        return out.toByteArray();
    }

    private static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }
}

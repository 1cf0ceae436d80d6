package dev.isolation.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Classic BPF with labels: instructions are added in order, jumps name labels, and {@link #assemble} lays them
 * out. A conditional jump has 8-bit offsets ({@code jt}, {@code jf}: at most 255 instructions forward); one whose
 * target is farther is rewritten as {@code jcc k, 0, 1; ja T; ja F}, since {@code ja} has a 32-bit offset. Rewriting
 * only lengthens the program, so repeating until nothing changes ends. Jumps go forward only, as BPF requires.
 */
final class BpfAssembler {
    static final int LD_W_ABS = 0x20;
    static final int ALU_AND_K = 0x54;
    static final int JMP_JA = 0x05;
    static final int JMP_JEQ_K = 0x15;
    static final int JMP_JGT_K = 0x25;
    static final int JMP_JGE_K = 0x35;
    static final int JMP_JSET_K = 0x45;
    static final int RET_K = 0x06;

    /** The size of {@code struct sock_filter}: u16 code, u8 jt, u8 jf, u32 k. */
    static final int INSTRUCTION_BYTES = 8;

    /** A place in the program, marked once with {@link #mark}. */
    static final class Label {
    }

    /** A statement (jt, jf, target all null), a conditional jump (null jt or jf: the next instruction), or a JA. */
    private record Insn(int code, int k, Label jt, Label jf, Label target) {
        boolean conditional() {
            return code != JMP_JA && (code & 0x07) == 0x05;
        }
    }

    private final List<Object> items = new ArrayList<>();

    void load(int offset) {
        items.add(new Insn(LD_W_ABS, offset, null, null, null));
    }

    void and(int mask) {
        items.add(new Insn(ALU_AND_K, mask, null, null, null));
    }

    void ret(int value) {
        items.add(new Insn(RET_K, value, null, null, null));
    }

    /** A conditional jump on A against k; a null label means the next instruction. */
    void jump(int code, int k, Label jt, Label jf) {
        items.add(new Insn(code, k, jt, jf, null));
    }

    void ja(Label target) {
        items.add(new Insn(JMP_JA, 0, null, null, target));
    }

    void mark(Label label) {
        items.add(label);
    }

    /** The program as {@code struct sock_filter[]} in the given byte order. */
    byte[] assemble(ByteOrder order) {
        Map<Object, Boolean> expanded = new IdentityHashMap<>();
        Map<Label, Integer> labels = new IdentityHashMap<>();
        int length;
        List<Insn> far = new ArrayList<>();
        do {
            // Judge every jump against one layout; a jump too far there is too far in any later, longer layout.
            length = layout(expanded, labels);
            far.clear();
            int position = 0;
            for (Object item : items) {
                if (item instanceof Insn insn) {
                    if (insn.conditional() && !expanded.containsKey(insn)) {
                        int next = position + 1;
                        if (target(insn.jt, next, labels, position) - next > 255
                                || target(insn.jf, next, labels, position) - next > 255) {
                            far.add(insn);
                        }
                    }
                    position += size(insn, expanded);
                }
            }
            for (Insn insn : far) {
                expanded.put(insn, Boolean.TRUE);
            }
        } while (!far.isEmpty());

        ByteBuffer out = ByteBuffer.allocate(length * INSTRUCTION_BYTES).order(order);
        int position = 0;
        for (Object item : items) {
            if (!(item instanceof Insn insn)) {
                continue;
            }
            if (insn.code == JMP_JA) {
                put(out, JMP_JA, 0, 0, target(insn.target, position + 1, labels, position) - (position + 1));
            } else if (!insn.conditional()) {
                put(out, insn.code, 0, 0, insn.k);
            } else if (!expanded.containsKey(insn)) {
                int next = position + 1;
                put(out, insn.code, target(insn.jt, next, labels, position) - next,
                        target(insn.jf, next, labels, position) - next, insn.k);
            } else {
                int next = position + 3;
                put(out, insn.code, 0, 1, insn.k);
                put(out, JMP_JA, 0, 0, target(insn.jt, next, labels, position) - (position + 2));
                put(out, JMP_JA, 0, 0, target(insn.jf, next, labels, position) - (position + 3));
            }
            position += size(insn, expanded);
        }
        return out.array();
    }

    /** Places every label; returns the program's length in instructions. */
    private int layout(Map<Object, Boolean> expanded, Map<Label, Integer> labels) {
        labels.clear();
        int position = 0;
        for (Object item : items) {
            if (item instanceof Label label) {
                if (labels.put(label, position) != null) {
                    throw new IllegalStateException("label marked twice");
                }
            } else {
                position += size((Insn) item, expanded);
            }
        }
        return position;
    }

    private static int size(Insn insn, Map<Object, Boolean> expanded) {
        return expanded.containsKey(insn) ? 3 : 1;
    }

    private static int target(Label label, int next, Map<Label, Integer> labels, int from) {
        if (label == null) {
            return next;
        }
        Integer position = labels.get(label);
        if (position == null) {
            throw new IllegalStateException("jump at " + from + " to a label never marked");
        }
        if (position <= from) {
            throw new IllegalStateException("jump at " + from + " goes backwards to " + position);
        }
        return position;
    }

    private static void put(ByteBuffer out, int code, int jt, int jf, int k) {
        out.putShort((short) code).put((byte) jt).put((byte) jf).putInt(k);
    }
}

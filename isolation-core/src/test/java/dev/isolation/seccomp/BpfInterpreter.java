package dev.isolation.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Runs a seccomp program (struct sock_filter[], little-endian) on a simulated {@code struct seccomp_data}, after
 * checking it the way the kernel does before accepting it: 1..4096 instructions, only the opcodes seccomp allows,
 * loads aligned and inside the 64 bytes of seccomp_data, every jump forward and inside the program, the last
 * instruction a return. Written for these tests from the BPF and seccomp documentation.
 */
final class BpfInterpreter {
    /** {@code struct seccomp_data}: nr, arch, instruction_pointer, args[6]. */
    record SeccompData(int nr, int arch, long instructionPointer, long... args) {
        SeccompData {
            if (args.length > 6) {
                throw new IllegalArgumentException("at most 6 args");
            }
            args = java.util.Arrays.copyOf(args, 6);
        }

        ByteBuffer bytes() {
            ByteBuffer buffer = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            buffer.putInt(nr).putInt(arch).putLong(instructionPointer);
            for (long arg : args) {
                buffer.putLong(arg);
            }
            return buffer.flip();
        }
    }

    private static final int BPF_RET = 0x06;

    private final short[] code;
    private final int[] jt;
    private final int[] jf;
    private final int[] k;

    /** How many instructions the last {@link #run} executed. */
    int executed;

    BpfInterpreter(byte[] program) {
        if (program.length % 8 != 0) {
            throw new IllegalArgumentException("program length " + program.length + " is not a multiple of 8");
        }
        int length = program.length / 8;
        if (length < 1 || length > 4096) {
            throw new IllegalArgumentException("program has " + length + " instructions; the kernel takes 1..4096");
        }
        ByteBuffer in = ByteBuffer.wrap(program).order(ByteOrder.LITTLE_ENDIAN);
        code = new short[length];
        jt = new int[length];
        jf = new int[length];
        k = new int[length];
        for (int pc = 0; pc < length; pc++) {
            code[pc] = in.getShort();
            jt[pc] = in.get() & 0xff;
            jf[pc] = in.get() & 0xff;
            k[pc] = in.getInt();
            check(pc, length);
        }
        if (cls(length - 1) != BPF_RET) {
            throw new IllegalArgumentException("the last instruction is not a return");
        }
    }

    private int cls(int pc) {
        return code[pc] & 0x07;
    }

    private void check(int pc, int length) {
        int op = code[pc] & 0xffff;
        switch (op) {
            case 0x20 -> { // ld [k]
                if (k[pc] < 0 || k[pc] % 4 != 0 || k[pc] + 4 > 64) {
                    throw new IllegalArgumentException(pc + ": load of seccomp_data offset " + k[pc]);
                }
            }
            case 0x54, 0x06 -> { // and #k, ret #k
            }
            case 0x05 -> { // ja
                if (Integer.toUnsignedLong(k[pc]) >= length - pc - 1) {
                    throw new IllegalArgumentException(pc + ": ja out of the program");
                }
            }
            case 0x15, 0x25, 0x35, 0x45 -> { // jeq, jgt, jge, jset #k
                if (pc + jt[pc] + 1 >= length || pc + jf[pc] + 1 >= length) {
                    throw new IllegalArgumentException(pc + ": conditional jump out of the program");
                }
            }
            default -> throw new IllegalArgumentException(pc + ": opcode 0x" + Integer.toHexString(op)
                    + " is not used by seccomp programs of this compiler");
        }
    }

    /** The program's return value for this syscall. */
    int run(SeccompData data) {
        ByteBuffer bytes = data.bytes();
        int a = 0;
        int pc = 0;
        executed = 0;
        while (true) {
            executed++;
            int op = code[pc] & 0xffff;
            switch (op) {
                case 0x20 -> {
                    a = bytes.getInt(k[pc]);
                    pc++;
                }
                case 0x54 -> {
                    a &= k[pc];
                    pc++;
                }
                case 0x06 -> {
                    return k[pc];
                }
                case 0x05 -> pc += 1 + k[pc];
                case 0x15 -> pc += 1 + (a == k[pc] ? jt[pc] : jf[pc]);
                case 0x25 -> pc += 1 + (Integer.compareUnsigned(a, k[pc]) > 0 ? jt[pc] : jf[pc]);
                case 0x35 -> pc += 1 + (Integer.compareUnsigned(a, k[pc]) >= 0 ? jt[pc] : jf[pc]);
                case 0x45 -> pc += 1 + ((a & k[pc]) != 0 ? jt[pc] : jf[pc]);
                default -> throw new IllegalStateException("unreachable: checked in the constructor");
            }
        }
    }

    int instructions() {
        return code.length;
    }

    /** Whether the program uses {@code ja}, i.e. needed a jump farther than 255 instructions. */
    boolean hasLongJumps() {
        for (short c : code) {
            if ((c & 0xffff) == 0x05) {
                return true;
            }
        }
        return false;
    }
}

package dev.isolation.seccomp;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A compiled seccomp filter: {@code struct sock_filter[]} ({@code u16 code, u8 jt, u8 jf, u32 k}, 8 bytes each)
 * in the arch's byte order, ready for {@code struct sock_fprog {len = instructions(), filter = bytes()}}.
 *
 * @param arch the machine it is for
 * @param bytes the instructions (copied in and out)
 */
public record SeccompProgram(Arch arch, byte[] bytes) {
    public SeccompProgram {
        Objects.requireNonNull(arch, "arch");
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length == 0 || bytes.length % BpfAssembler.INSTRUCTION_BYTES != 0) {
            throw new IllegalArgumentException("a seccomp program is a non-empty array of 8-byte instructions, not "
                    + bytes.length + " bytes");
        }
        bytes = bytes.clone();
    }

    /** A copy of the instructions. */
    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The number of instructions ({@code sock_fprog.len}). */
    public int instructions() {
        return bytes.length / BpfAssembler.INSTRUCTION_BYTES;
    }

    /** One instruction per line: {@code 12: jeq 0x0000009d jt 13 jf 15}, targets as absolute indexes. */
    public String disassemble() {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(arch.byteOrder());
        StringBuilder text = new StringBuilder();
        for (int pc = 0; pc < instructions(); pc++) {
            int code = in.getShort() & 0xffff;
            int jt = in.get() & 0xff;
            int jf = in.get() & 0xff;
            int k = in.getInt();
            text.append(pc).append(": ");
            String hex = String.format("0x%08x", k);
            switch (code) {
                case BpfAssembler.LD_W_ABS -> text.append("ld [").append(k).append(']');
                case BpfAssembler.ALU_AND_K -> text.append("and ").append(hex);
                case BpfAssembler.RET_K -> text.append("ret ").append(hex);
                case BpfAssembler.JMP_JA -> text.append("ja ").append(pc + 1 + k);
                case BpfAssembler.JMP_JEQ_K, BpfAssembler.JMP_JGT_K, BpfAssembler.JMP_JGE_K,
                        BpfAssembler.JMP_JSET_K -> text.append(switch (code) {
                            case BpfAssembler.JMP_JEQ_K -> "jeq ";
                            case BpfAssembler.JMP_JGT_K -> "jgt ";
                            case BpfAssembler.JMP_JGE_K -> "jge ";
                            default -> "jset ";
                        }).append(hex).append(" jt ").append(pc + 1 + jt).append(" jf ").append(pc + 1 + jf);
                default -> text.append(String.format("code 0x%04x jt %d jf %d k %s", code, jt, jf, hex));
            }
            text.append('\n');
        }
        return text.toString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SeccompProgram program && program.arch == arch && Arrays.equals(program.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return 31 * arch.hashCode() + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "SeccompProgram[" + arch + ", " + instructions() + " instructions]";
    }
}

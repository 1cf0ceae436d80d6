package dev.isolation.seccomp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Compiles a {@link SeccompPolicy} into the classic-BPF program the kernel runs on every syscall
 * ({@code prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)}, after {@code PR_SET_NO_NEW_PRIVS}).
 *
 * <p>The program, reading {@code struct seccomp_data {int nr; u32 arch; u64 instruction_pointer; u64 args[6];}}:
 * <ol>
 *   <li>loads {@code arch}; the arch's own AUDIT_ARCH goes on, i386 on x86_64 goes to its own section when foreign
 *       ABIs are allowed, anything else returns KILL_PROCESS (a syscall number only means something together with
 *       its ABI);
 *   <li>loads {@code nr}; on x86_64 a number with the x32 bit (0x40000000) or above goes to the x32 section when
 *       foreign ABIs are allowed, else KILL_PROCESS;
 *   <li>a number above the highest of the ABI's table (x32: also one between its shared syscalls and its own,
 *       from 512), a syscall newer than the tables, returns {@link SeccompPolicy#unknownSyscalls()}; number -1 (a
 *       tracer skipping a syscall) is let on. Left out when that action is the default action. The i386 and x32
 *       sections begin with the same check on their own tables;
 *   <li>each section finds the syscall by a binary search on its number ({@code jge}), ending in runs of at most
 *       {@value #LEAF} {@code jeq}s each followed by the syscall's block: its rules in order, each a chain of
 *       argument tests ending in {@code ret action}, then {@code ret default}; a number with no rule reaches
 *       {@code ret default}.
 * </ol>
 * A 64-bit argument test compares the high 32-bit half of {@code args[i]} first, then the low one. Offsets too far
 * for a conditional jump's 8 bits go through {@code ja} (see {@link BpfAssembler}).
 */
public final class SeccompCompiler {
    /** BPF_MAXINSNS: the kernel refuses longer programs. */
    public static final int MAX_INSTRUCTIONS = 4096;

    /** How many syscalls a leaf of the search tests one after another. */
    static final int LEAF = 4;

    static final int OFFSET_NR = 0;
    static final int OFFSET_ARCH = 4;
    static final int OFFSET_ARGS = 16;

    private SeccompCompiler() {
    }

    /**
     * The program for the policy on the arch.
     *
     * @throws IllegalArgumentException when the arch is not one of the policy's architectures, or when the program
     *     would be longer than {@value #MAX_INSTRUCTIONS} instructions
     */
    public static SeccompProgram compile(SeccompPolicy policy, Arch arch) {
        if (policy == null) {
            throw new IllegalArgumentException("policy == null");
        }
        if (arch == null) {
            throw new IllegalArgumentException("arch == null");
        }
        if (!policy.architectures().contains(arch)) {
            throw new IllegalArgumentException("arch " + arch + " is not one of the policy's architectures "
                    + policy.architectures());
        }
        BpfAssembler asm = new BpfAssembler();
        Abi nativeAbi = arch.nativeAbi();
        boolean foreign = policy.allowForeignAbi() && !arch.foreignAbis().isEmpty();
        int kill = Action.KILL_PROCESS.returnValue();

        asm.load(OFFSET_ARCH);
        BpfAssembler.Label nativeSection = new BpfAssembler.Label();
        asm.jump(BpfAssembler.JMP_JEQ_K, nativeAbi.auditArch(), nativeSection, null);
        List<Abi> otherArchAbis = new ArrayList<>();
        List<BpfAssembler.Label> otherArchSections = new ArrayList<>();
        if (foreign) {
            for (Abi abi : arch.foreignAbis()) {
                if (abi.auditArch() != nativeAbi.auditArch()) {
                    BpfAssembler.Label section = new BpfAssembler.Label();
                    asm.jump(BpfAssembler.JMP_JEQ_K, abi.auditArch(), section, null);
                    otherArchAbis.add(abi);
                    otherArchSections.add(section);
                }
            }
        }
        asm.ret(kill);

        asm.mark(nativeSection);
        asm.load(OFFSET_NR);
        boolean x32 = arch.foreignAbis().contains(Abi.X32);
        BpfAssembler.Label x32Section = new BpfAssembler.Label();
        if (x32) {
            asm.jump(BpfAssembler.JMP_JGE_K, SyscallTables.X32_SYSCALL_BIT, x32Section, null);
        }
        // Below the x32 bit here, so -1 cannot reach the check on x86_64.
        unknownSyscalls(asm, nativeAbi, policy, !x32);
        section(asm, nativeAbi, policy);
        if (x32) {
            asm.mark(x32Section);
            if (foreign) {
                unknownSyscalls(asm, Abi.X32, policy, true);
                section(asm, Abi.X32, policy);
            } else {
                asm.ret(kill);
            }
        }
        for (int i = 0; i < otherArchAbis.size(); i++) {
            asm.mark(otherArchSections.get(i));
            asm.load(OFFSET_NR);
            unknownSyscalls(asm, otherArchAbis.get(i), policy, true);
            section(asm, otherArchAbis.get(i), policy);
        }

        byte[] bytes = asm.assemble(arch.byteOrder());
        int instructions = bytes.length / BpfAssembler.INSTRUCTION_BYTES;
        if (instructions > MAX_INSTRUCTIONS) {
            throw new IllegalArgumentException("the seccomp program for " + arch + " would have " + instructions
                    + " instructions, more than the kernel's limit of " + MAX_INSTRUCTIONS + " (BPF_MAXINSNS): the"
                    + " policy has " + policy.rules().size() + " rules; use fewer, or fewer argument conditions");
        }
        return new SeccompProgram(arch, bytes);
    }

    /**
     * Returns {@link SeccompPolicy#unknownSyscalls()} for a number newer than the ABI's table, falls through for the
     * others; A holds {@code nr}. Nothing when that action is the default action, which those numbers get anyway.
     */
    private static void unknownSyscalls(BpfAssembler asm, Abi abi, SeccompPolicy policy, boolean minusOne) {
        if (policy.unknownSyscalls().equals(policy.defaultAction())) {
            return;
        }
        BpfAssembler.Label known = new BpfAssembler.Label();
        BpfAssembler.Label unknown = new BpfAssembler.Label();
        if (abi.ownFirst().isPresent()) {
            asm.jump(BpfAssembler.JMP_JGT_K, abi.highest(), unknown, null);
            asm.jump(BpfAssembler.JMP_JGE_K, abi.ownFirst().getAsInt(), known, null);
            asm.jump(BpfAssembler.JMP_JGT_K, abi.highestShared(), null, known);
        } else {
            asm.jump(BpfAssembler.JMP_JGT_K, abi.highest(), null, known);
        }
        asm.mark(unknown);
        if (minusOne) {
            asm.jump(BpfAssembler.JMP_JEQ_K, -1, known, null);
        }
        asm.ret(policy.unknownSyscalls().returnValue());
        asm.mark(known);
    }

    /** The rules for one ABI; A holds {@code nr}. */
    private static void section(BpfAssembler asm, Abi abi, SeccompPolicy policy) {
        // Plain loops rather than streams and lambdas: the first compile often runs on a cold JVM.
        Map<Integer, List<Rule>> byNumber = new HashMap<>();
        for (Rule rule : policy.rules()) {
            OptionalInt nr = abi.number(rule.syscall());
            if (nr.isPresent()) {
                List<Rule> rules = byNumber.get(nr.getAsInt());
                if (rules == null) {
                    rules = new ArrayList<>();
                    byNumber.put(nr.getAsInt(), rules);
                }
                rules.add(rule);
            }
        }
        int[] numbers = new int[byNumber.size()];
        int count = 0;
        for (int nr : byNumber.keySet()) {
            numbers[count++] = nr ^ Integer.MIN_VALUE;
        }
        Arrays.sort(numbers);
        for (int i = 0; i < count; i++) {
            numbers[i] ^= Integer.MIN_VALUE;   // sorted as unsigned, as jge compares
        }
        search(asm, numbers, 0, numbers.length, byNumber, policy.defaultAction().returnValue());
    }

    private static void search(BpfAssembler asm, int[] numbers, int from, int to, Map<Integer, List<Rule>> rules,
            int defaultAction) {
        if (to - from <= LEAF) {
            for (int i = from; i < to; i++) {
                BpfAssembler.Label other = new BpfAssembler.Label();
                asm.jump(BpfAssembler.JMP_JEQ_K, numbers[i], null, other);
                block(asm, rules.get(numbers[i]), defaultAction);
                asm.mark(other);
            }
            asm.ret(defaultAction);
            return;
        }
        int middle = (from + to) >>> 1;
        BpfAssembler.Label upper = new BpfAssembler.Label();
        asm.jump(BpfAssembler.JMP_JGE_K, numbers[middle], upper, null);
        search(asm, numbers, from, middle, rules, defaultAction);
        asm.mark(upper);
        search(asm, numbers, middle, to, rules, defaultAction);
    }

    /** One syscall's rules in order; each ends in its action's {@code ret}, the last failure in the default. */
    private static void block(BpfAssembler asm, List<Rule> rules, int defaultAction) {
        for (Rule rule : rules) {
            if (rule.conditions().isEmpty()) {
                asm.ret(rule.action().returnValue());
                return;
            }
            BpfAssembler.Label fail = new BpfAssembler.Label();
            for (ArgCondition condition : rule.conditions()) {
                condition(asm, condition, fail);
            }
            asm.ret(rule.action().returnValue());
            asm.mark(fail);
        }
        asm.ret(defaultAction);
    }

    /** Falls through when the condition holds, jumps to {@code fail} when it does not. Clobbers A. */
    private static void condition(BpfAssembler asm, ArgCondition condition, BpfAssembler.Label fail) {
        int low = OFFSET_ARGS + 8 * condition.index();
        int high = low + 4;
        int valueHigh = (int) (condition.value() >>> 32);
        int valueLow = (int) condition.value();
        BpfAssembler.Label pass = new BpfAssembler.Label();
        switch (condition.op()) {
            case EQ -> {
                asm.load(high);
                asm.jump(BpfAssembler.JMP_JEQ_K, valueHigh, null, fail);
                asm.load(low);
                asm.jump(BpfAssembler.JMP_JEQ_K, valueLow, null, fail);
            }
            case NE -> {
                asm.load(high);
                asm.jump(BpfAssembler.JMP_JEQ_K, valueHigh, null, pass);
                asm.load(low);
                asm.jump(BpfAssembler.JMP_JEQ_K, valueLow, fail, null);
            }
            case GT, GE -> {
                asm.load(high);
                asm.jump(BpfAssembler.JMP_JGT_K, valueHigh, pass, null);
                asm.jump(BpfAssembler.JMP_JEQ_K, valueHigh, null, fail);
                asm.load(low);
                asm.jump(condition.op() == ArgCondition.Op.GT ? BpfAssembler.JMP_JGT_K : BpfAssembler.JMP_JGE_K,
                        valueLow, null, fail);
            }
            case LT, LE -> {
                asm.load(high);
                asm.jump(BpfAssembler.JMP_JGT_K, valueHigh, fail, null);
                asm.jump(BpfAssembler.JMP_JEQ_K, valueHigh, null, pass);
                asm.load(low);
                asm.jump(condition.op() == ArgCondition.Op.LT ? BpfAssembler.JMP_JGE_K : BpfAssembler.JMP_JGT_K,
                        valueLow, fail, null);
            }
            case MASKED_EQ -> {
                int maskHigh = (int) (condition.mask() >>> 32);
                int maskLow = (int) condition.mask();
                if (maskHigh != 0) {
                    asm.load(high);
                    if (maskHigh != -1) {
                        asm.and(maskHigh);
                    }
                    asm.jump(BpfAssembler.JMP_JEQ_K, valueHigh, null, fail);
                }
                if (maskLow != 0) {
                    asm.load(low);
                    if (maskLow != -1) {
                        asm.and(maskLow);
                    }
                    asm.jump(BpfAssembler.JMP_JEQ_K, valueLow, null, fail);
                }
            }
        }
        asm.mark(pass);
    }
}

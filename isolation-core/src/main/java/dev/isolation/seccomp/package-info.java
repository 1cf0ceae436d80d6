/**
 * Seccomp for sandboxes: a {@link dev.isolation.seccomp.SeccompPolicy} (which syscalls a program may make, with
 * what result otherwise) compiled by {@link dev.isolation.seccomp.SeccompCompiler} into the classic-BPF program
 * the kernel runs on each syscall. Java builds and checks the program; the native helper only installs its bytes
 * with {@code prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)} as the last step before exec.
 *
 * <pre>{@code
 * SeccompProgram program = SeccompCompiler.compile(SeccompPolicy.defaultPolicy(), Arch.current());
 * SeccompPolicy mine = SeccompPolicy.builder()
 *     .defaultAction(Action.ALLOW)
 *     .rule(Rule.of("socket", Action.errno(97), ArgCondition.ne(0, 1)))   // only AF_UNIX sockets: EAFNOSUPPORT
 *     .build();
 * SeccompPolicy docker = SeccompPolicy.fromOciJson(Files.readString(Path.of("profile.json")));
 * }</pre>
 *
 * <p>Syscall numbers come from the kernel's UAPI headers through a generator whose output is checked in
 * ({@code isolation-core/src/main/seccomp-tables/}); see its README for how to regenerate them. A syscall newer than
 * those headers gets the policy's {@link dev.isolation.seccomp.SeccompPolicy#unknownSyscalls()} action (ENOSYS
 * unless set otherwise).
 */
package dev.isolation.seccomp;

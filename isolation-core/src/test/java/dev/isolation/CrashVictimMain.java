package dev.isolation;

/**
 * Run in a child JVM by {@link JvmCrashTest}: starts a sandbox whose program leaves a background sleep and a
 * double-forked one in a new session, prints the program's host pid, then waits to be killed.
 */
public final class CrashVictimMain {
    private CrashVictimMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean namespaces = args[0].equals("all");
        String marker = args[1];
        SandboxBuilder builder = namespaces ? Sandbox.builder().allNamespaces() : Sandbox.builder();
        SandboxProcess process = builder.command("/bin/sh", "-c",
                "sleep " + marker + " & (setsid sleep " + marker + " &); exec sleep " + marker)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        System.out.println(process.pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}

package dev.isolation;

import dev.isolation.cgroups.ResourceLimits;

/** Run in a child JVM by {@link LimitsTest}: a sandbox in a cgroup of its own, then waits to be killed. */
public final class LimitedSandboxMain {
    private LimitedSandboxMain() {
    }

    public static void main(String[] args) throws Exception {
        Sandbox.builder().allNamespaces().limits(ResourceLimits.none())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).command("/bin/sleep", "1000").start();
        System.out.println("started");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}

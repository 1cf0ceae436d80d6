package dev.isolation;

/**
 * Run in a child JVM by {@link CrashCleanupTest} with {@code -Disolation.helper} naming a program that never
 * connects: the start binds its control socket and waits in accept until the JVM is killed, which leaves the
 * socket behind (as a JVM killed between bind and accept does).
 */
public final class StuckStartMain {
    private StuckStartMain() {
    }

    public static void main(String[] args) throws Exception {
        Sandbox.builder().allNamespaces().command("/bin/true").start();
        throw new IllegalStateException("the helper was meant never to connect");
    }
}

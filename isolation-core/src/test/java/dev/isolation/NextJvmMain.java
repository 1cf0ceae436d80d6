package dev.isolation;

import dev.isolation.cgroups.ResourceLimits;

/**
 * Run in a child JVM by {@link CrashCleanupTest}, as the JVM that comes after one that was killed, with the same
 * -Disolation.runtime.dir. {@code explicit}: calls {@link SandboxCleanup#removeAbandoned()} twice and prints both
 * reports. {@code start} (with "limits" or "no"): runs one sandbox to its end, the first use that cleans up by
 * itself, and exits normally.
 *
 * <pre>
 * report
 * cgroup &lt;name&gt; | directory &lt;path&gt; | socket &lt;path&gt; | file &lt;path&gt;
 * left &lt;what&gt;TAB&lt;reason&gt;
 * end
 * </pre>
 */
public final class NextJvmMain {
    private NextJvmMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("explicit")) {
            print(SandboxCleanup.removeAbandoned());
            print(SandboxCleanup.removeAbandoned());
            return;
        }
        SandboxBuilder builder = Sandbox.builder().allNamespaces().command("/bin/true");
        if (args[1].equals("limits")) {
            builder.limits(ResourceLimits.none());
        }
        System.out.println("exited " + builder.start().waitFor());
    }

    private static void print(CleanupReport report) {
        System.out.println("report");
        report.cgroups().forEach(name -> System.out.println("cgroup " + name));
        report.directories().forEach(path -> System.out.println("directory " + path));
        report.sockets().forEach(path -> System.out.println("socket " + path));
        report.files().forEach(path -> System.out.println("file " + path));
        report.notRemoved().forEach(left -> System.out.println("left " + left.what() + "\t" + left.reason()));
        System.out.println("end");
        System.out.flush();
    }
}

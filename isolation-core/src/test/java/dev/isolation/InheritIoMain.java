package dev.isolation;

/** Run in a child JVM by {@link RedirectTest}: a sandbox that inherits this JVM's standard streams. */
public final class InheritIoMain {
    private InheritIoMain() {
    }

    public static void main(String[] args) throws Exception {
        int code = Sandbox.builder().allNamespaces().inheritIO()
                .command("/bin/sh", "-c", "tr a-z A-Z; echo to-stderr >&2").start().waitFor();
        System.exit(code);
    }
}

package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The cpuset controller: cpuset.cpus and cpuset.mems, in the kernel's list format ("0-1,3"). */
final class V2Cpuset implements V2Controller {
    static final String CPUS = "cpuset.cpus";
    static final String MEMS = "cpuset.mems";
    static final String CPUS_EFFECTIVE = "cpuset.cpus.effective";
    static final String MEMS_EFFECTIVE = "cpuset.mems.effective";

    @Override
    public String name() {
        return "cpuset";
    }

    @Override
    public List<String> limitsSet(ResourceLimits limits) {
        List<String> set = new ArrayList<>();
        limits.cpusetCpus().ifPresent(v -> set.add("cpusetCpus"));
        limits.cpusetMems().ifPresent(v -> set.add("cpusetMems"));
        return set;
    }

    @Override
    public void apply(Path group, ResourceLimits limits) throws IOException {
        if (limits.cpusetCpus().isPresent()) {
            write(group, CPUS, CPUS_EFFECTIVE, limits.cpusetCpus().get(), "cpusetCpus");
        }
        if (limits.cpusetMems().isPresent()) {
            write(group, MEMS, MEMS_EFFECTIVE, limits.cpusetMems().get(), "cpusetMems");
        }
    }

    /** Writes a list; when the kernel refuses it, says which CPUs or nodes the parent allows. */
    private static void write(Path group, String file, String parentEffective, String list, String what)
            throws IOException {
        try {
            V2Files.write(group.resolve(file), list, what);
        } catch (IOException e) {
            Path allowed = group.getParent().resolve(parentEffective);
            String parentList;
            try {
                parentList = V2Files.read(allowed);
            } catch (IOException unreadable) {
                throw e;
            }
            throw new IOException(e.getMessage() + " (the parent allows \"" + parentList + "\": " + allowed + ")",
                    e.getCause());
        }
    }
}

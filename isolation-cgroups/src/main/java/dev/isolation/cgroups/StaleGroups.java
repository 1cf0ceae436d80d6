package dev.isolation.cgroups;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@link CgroupManager#removeStale()} did: the names of the groups, left by JVMs that are gone, that it
 * removed, and of those it could not remove, each with why.
 */
public record StaleGroups(List<String> removed, Map<String, String> notRemoved) {
    public StaleGroups {
        removed = List.copyOf(removed);
        notRemoved = Collections.unmodifiableMap(new TreeMap<>(notRemoved));
    }
}

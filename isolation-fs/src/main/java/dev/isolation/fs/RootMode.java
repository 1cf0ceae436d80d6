package dev.isolation.fs;

/** How the root's source becomes the sandbox's root. */
public enum RootMode {
    /** overlayfs over the source's layers with a private upper directory: writable, the source never changes. */
    OVERLAY,
    /** The source itself, bound (the host root recursively, always read-only); layers: stacked read-only. */
    BIND,
    /** A private copy of the merged source, bound: the explicit alternative where overlayfs cannot be used. */
    COPY
}

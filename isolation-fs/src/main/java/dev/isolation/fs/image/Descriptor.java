package dev.isolation.fs.image;

import java.io.IOException;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An OCI content descriptor: what a blob is, its digest and size, and for manifests in an index the platform and
 * reference name. The digest is checked to be {@code sha256:<64 lowercase hex>} before it is ever used to build
 * a path.
 */
record Descriptor(String mediaType, String digest, long size, Optional<Platform> platform, Optional<String> refName) {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(refName, "refName");
    }

    static Descriptor parse(JsonFields descriptor) throws IOException {
        String digest = descriptor.string("digest");
        int colon = digest.indexOf(':');
        if (colon < 0) {
            throw new IOException(descriptor.where() + ": digest '" + digest
                    + "' is not of the form sha256:<64 lowercase hex digits>");
        }
        String algorithm = digest.substring(0, colon);
        if (!algorithm.equals("sha256")) {
            throw new IOException(descriptor.where() + ": digest '" + digest + "' uses the algorithm '" + algorithm
                    + "'; only sha256 is supported");
        }
        if (!HEX.matcher(digest.substring(colon + 1)).matches()) {
            throw new IOException(descriptor.where() + ": digest '" + digest
                    + "' does not end in 64 lowercase hex digits");
        }
        long size = descriptor.integer("size");
        if (size < 0) {
            throw new IOException(descriptor.where() + ": size " + size + " of " + digest + " is negative");
        }
        Optional<Platform> platform = Optional.empty();
        Optional<JsonFields> platformFields = descriptor.optionalObject("platform");
        if (platformFields.isPresent()) {
            platform = Optional.of(Platform.parse(platformFields.get()));
        }
        Optional<String> refName = Optional.empty();
        Optional<JsonFields> annotations = descriptor.optionalObject("annotations");
        if (annotations.isPresent()) {
            refName = annotations.get().optionalString("org.opencontainers.image.ref.name");
            if (refName.isEmpty()) {
                refName = annotations.get().optionalString("io.containerd.image.name");
            }
        }
        return new Descriptor(descriptor.string("mediaType"), digest, size, platform, refName);
    }

    /** Where the blob is inside an image layout: {@code blobs/sha256/<hex>}. */
    String blobPath() {
        return "blobs/sha256/" + digest.substring("sha256:".length());
    }

    /** The digest with what is known about it, for messages: {@code sha256:ab.. (linux/amd64, "app:1")}. */
    String describe() {
        StringBuilder text = new StringBuilder(digest);
        if (platform.isPresent() || refName.isPresent()) {
            text.append(" (");
            platform.ifPresent(text::append);
            refName.ifPresent(name -> text.append(platform.isPresent() ? ", " : "").append('"').append(name).append('"'));
            text.append(')');
        }
        return text.toString();
    }
}

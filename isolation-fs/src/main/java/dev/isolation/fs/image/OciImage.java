package dev.isolation.fs.image;

import dev.isolation.fs.Layer;
import dev.isolation.fs.LayerStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A container image whose layers are unpacked in a {@link LayerStore}, loaded from an OCI image layout: a
 * directory ({@code oci-layout}, {@code index.json}, {@code blobs/sha256/...}) or a tar of one, which is what
 * {@code docker save} writes since Docker 25 (read in place, without extracting it; a gzip-compressed tar is
 * decompressed to a temporary file first). The older {@code docker save} format without an OCI layout
 * ({@code <id>/layer.tar}) is refused with a message saying so.
 *
 * <p>Every blob is verified against the digest and size its descriptor gives before it is used: nested indexes,
 * the manifest, the config and each layer (layers already in the store were verified when stored and are not read
 * again). From an index with several manifests, the one for linux on the JVM's architecture is chosen (preferring
 * one without a variant); an index with a single manifest gives that one. Layers may be uncompressed or gzip
 * tars; zstd layers are refused.
 */
public final class OciImage {
    private final String manifestDigest;
    private final ImageConfig config;
    private final List<Layer> layers;

    OciImage(String manifestDigest, ImageConfig config, List<Layer> layers) {
        this.manifestDigest = Objects.requireNonNull(manifestDigest, "manifestDigest");
        this.config = Objects.requireNonNull(config, "config");
        this.layers = List.copyOf(layers);
    }

    /**
     * Loads the image at {@code source} (an OCI layout directory or a {@code docker save} tar), unpacking its
     * layers into {@code store}.
     *
     * @throws IOException naming the image and the blob when something is missing, malformed or does not match
     *                     its digest
     */
    public static OciImage load(Path source, LayerStore store) throws IOException {
        return load(source, store, Platform.ofJvm());
    }

    static OciImage load(Path source, LayerStore store, Platform platform) throws IOException {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(store, "store");
        try (ImageSource files = ImageSource.of(source)) {
            return new OciLayoutReader(files, "image " + source, platform).read(store);
        }
    }

    /** The layers, bottom first, as stacked: the first is the lowest. */
    public List<Layer> layers() {
        return layers;
    }

    /** What the image says about running it. */
    public ImageConfig config() {
        return config;
    }

    /** The digest of the image's manifest, {@code sha256:<hex>}. */
    public String manifestDigest() {
        return manifestDigest;
    }

    @Override
    public String toString() {
        return "OciImage[" + manifestDigest + ", " + layers.size() + " layers]";
    }
}

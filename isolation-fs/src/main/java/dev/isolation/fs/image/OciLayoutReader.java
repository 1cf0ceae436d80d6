package dev.isolation.fs.image;

import com.google.common.hash.Hashing;
import dev.isolation.fs.BlobStream;
import dev.isolation.fs.Layer;
import dev.isolation.fs.LayerStore;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads one image out of an OCI image layout: {@code oci-layout}, {@code index.json}, then (through nested
 * indexes, choosing by platform) the manifest, the config and the layers, verifying the digest and size of every
 * blob against the descriptor that names it before using it.
 */
final class OciLayoutReader {
    /** The largest index, manifest or config accepted. */
    static final int MAX_DOCUMENT = 4 << 20;
    private static final int MAX_INDEX_DEPTH = 4;

    private static final Set<String> MANIFEST_TYPES = Set.of("application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final Set<String> INDEX_TYPES = Set.of("application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");
    private static final Set<String> CONFIG_TYPES = Set.of("application/vnd.oci.image.config.v1+json",
            "application/vnd.docker.container.image.v1+json");

    private final ImageSource source;
    private final String image;
    private final Platform platform;

    OciLayoutReader(ImageSource source, String image, Platform platform) {
        this.source = source;
        this.image = image;
        this.platform = platform;
    }

    OciImage read(LayerStore store) throws IOException {
        checkLayoutVersion();
        JsonFields index = json(file("index.json"), "index.json");
        requireSchemaVersion(index);
        Descriptor manifestDescriptor = select(index, "index.json", 0);
        String manifestName = "manifest " + manifestDescriptor.digest();
        JsonFields manifest = json(blob(manifestDescriptor, manifestName), manifestName);
        requireSchemaVersion(manifest);
        Optional<String> declared = manifest.optionalString("mediaType");
        if (declared.isPresent() && !declared.get().equals(manifestDescriptor.mediaType())) {
            throw new IOException(image + ": " + manifestName + " says it is a " + declared.get()
                    + " but its descriptor says " + manifestDescriptor.mediaType());
        }
        Descriptor configDescriptor = Descriptor.parse(manifest.object("config"));
        String configName = "config " + configDescriptor.digest();
        if (!CONFIG_TYPES.contains(configDescriptor.mediaType())) {
            throw new IOException(image + ": " + configName + " has the media type " + configDescriptor.mediaType()
                    + ", which is not a container image config");
        }
        JsonFields config = json(blob(configDescriptor, configName), configName);
        List<Descriptor> layerDescriptors = new ArrayList<>();
        for (JsonFields layer : manifest.objects("layers")) {
            layerDescriptors.add(Descriptor.parse(layer));
        }
        Optional<JsonFields> rootfs = config.optionalObject("rootfs");
        if (rootfs.isPresent() && rootfs.get().strings("diff_ids").size() != layerDescriptors.size()) {
            throw new IOException(image + ": " + configName + " lists " + rootfs.get().strings("diff_ids").size()
                    + " diff_ids but " + manifestName + " has " + layerDescriptors.size() + " layers");
        }
        ImageConfig imageConfig = ImageConfig.fromConfigBlob(config);
        List<Layer> layers = new ArrayList<>();
        for (Descriptor layer : layerDescriptors) {
            layers.add(unpack(layer, store));
        }
        return new OciImage(manifestDescriptor.digest(), imageConfig, layers);
    }

    private void checkLayoutVersion() throws IOException {
        Optional<InputStream> layout = source.read("oci-layout");
        if (layout.isEmpty()) {
            if (source.read("manifest.json").isPresent() && source.read("index.json").isEmpty()) {
                throw new IOException(image + ": a docker save archive without an OCI layout (from Docker before"
                        + " 25) is not supported; save it with Docker 25 or later, or convert it to an OCI layout");
            }
            throw new IOException(image + ": not an OCI image layout (no oci-layout file)");
        }
        byte[] bytes;
        try (InputStream in = layout.get()) {
            bytes = in.readNBytes(MAX_DOCUMENT + 1);
        }
        String version = json(bytes, "oci-layout").string("imageLayoutVersion");
        if (!version.equals("1.0.0")) {
            throw new IOException(image + ": oci-layout has the imageLayoutVersion '" + version
                    + "'; only 1.0.0 is supported");
        }
    }

    /** The image manifest for our platform, through nested indexes. */
    private Descriptor select(JsonFields index, String indexName, int depth) throws IOException {
        List<Descriptor> candidates = new ArrayList<>();
        for (JsonFields manifest : index.objects("manifests")) {
            Descriptor descriptor = Descriptor.parse(manifest);
            boolean known = candidates.stream().anyMatch(d -> d.digest().equals(descriptor.digest())
                    && d.platform().equals(descriptor.platform()));
            if (!known && (MANIFEST_TYPES.contains(descriptor.mediaType())
                    || INDEX_TYPES.contains(descriptor.mediaType()))) {
                candidates.add(descriptor);
            }
        }
        Descriptor chosen = choose(candidates, indexName);
        if (MANIFEST_TYPES.contains(chosen.mediaType())) {
            return chosen;
        }
        if (depth >= MAX_INDEX_DEPTH) {
            throw new IOException(image + ": image indexes nest deeper than " + MAX_INDEX_DEPTH + " levels");
        }
        String name = "index " + chosen.digest();
        JsonFields nested = json(blob(chosen, name), name);
        requireSchemaVersion(nested);
        return select(nested, name, depth + 1);
    }

    private Descriptor choose(List<Descriptor> candidates, String where) throws IOException {
        if (candidates.isEmpty()) {
            throw new IOException(image + ": " + where + " lists no image manifest");
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        List<Descriptor> matching = candidates.stream()
                .filter(d -> d.platform().isPresent() && d.platform().get().runsOn(platform))
                .collect(Collectors.toList());
        if (matching.size() > 1) {
            List<Descriptor> plain = matching.stream().filter(d -> d.platform().get().variant().isEmpty()).toList();
            matching = plain.size() == 1 ? plain : matching;
        }
        if (matching.size() == 1) {
            return matching.get(0);
        }
        String listed = candidates.stream().map(Descriptor::describe).collect(Collectors.joining(", "));
        if (matching.isEmpty()) {
            throw new IOException(image + ": none of the " + candidates.size() + " manifests of " + where + " is for "
                    + platform + ": " + listed);
        }
        throw new IOException(image + ": " + where + " has " + matching.size() + " manifests for " + platform
                + " and no way to choose: " + listed);
    }

    private Layer unpack(Descriptor layer, LayerStore store) throws IOException {
        String name = "layer " + layer.digest();
        String type = layer.mediaType();
        if (!type.startsWith("application/vnd.oci.image.layer.") && !type.startsWith("application/vnd.docker.image.rootfs.")) {
            throw new IOException(image + ": " + name + " has the media type " + type + ", which is not a layer");
        }
        if (type.endsWith("zstd")) {
            throw new IOException(image + ": " + name + ": zstd-compressed layers are not supported (" + type + ")");
        }
        Optional<Layer> stored = store.find(layer.digest());
        if (stored.isPresent()) {
            return stored.get();
        }
        InputStream blob = source.read(layer.blobPath())
                .orElseThrow(() -> new IOException(image + ": " + name + " is missing (no " + layer.blobPath() + ")"));
        try (blob) {
            return store.unpack(layer.digest(), BlobStream.ofSize(blob, layer.size(), name),
                    LayerStore.Compression.DETECT);
        } catch (IOException e) {
            throw new IOException(image + ": " + e.getMessage(), e);
        }
    }

    /** A blob named by {@code descriptor}, verified against its digest and size. */
    private byte[] blob(Descriptor descriptor, String name) throws IOException {
        if (descriptor.size() > MAX_DOCUMENT) {
            throw new IOException(image + ": " + name + " is " + descriptor.size() + " bytes, more than the limit of "
                    + MAX_DOCUMENT);
        }
        InputStream in = source.read(descriptor.blobPath())
                .orElseThrow(() -> new IOException(image + ": " + name + " is missing (no " + descriptor.blobPath() + ")"));
        byte[] bytes;
        try (in) {
            bytes = in.readNBytes(MAX_DOCUMENT + 1);
        }
        String actual = "sha256:" + Hashing.sha256().hashBytes(bytes).toString();
        if (!actual.equals(descriptor.digest())) {
            throw new IOException(image + ": " + name + ": the blob's digest is " + actual + " (digest mismatch)");
        }
        if (bytes.length != descriptor.size()) {
            throw new IOException(image + ": " + name + ": the blob has " + bytes.length + " bytes, its descriptor says "
                    + descriptor.size());
        }
        return bytes;
    }

    private byte[] file(String path) throws IOException {
        InputStream in = source.read(path).orElseThrow(() -> new IOException(image + ": " + path + " is missing"));
        try (in) {
            byte[] bytes = in.readNBytes(MAX_DOCUMENT + 1);
            if (bytes.length > MAX_DOCUMENT) {
                throw new IOException(image + ": " + path + " is larger than the limit of " + MAX_DOCUMENT + " bytes");
            }
            return bytes;
        }
    }

    private JsonFields json(byte[] bytes, String name) throws IOException {
        try {
            return JsonFields.of(Json.parse(bytes), image + ": " + name);
        } catch (IllegalArgumentException e) {
            throw new IOException(image + ": " + name + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    private void requireSchemaVersion(JsonFields document) throws IOException {
        long version = document.integer("schemaVersion");
        if (version != 2) {
            throw new IOException(document.where() + ": schemaVersion " + version + " is not supported (only 2)");
        }
    }
}

package dev.isolation.fs;

import com.google.common.io.BaseEncoding;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The content address of a directory tree: SHA-256 over a canonical listing of everything below the root, in
 * name order, each entry as its type, relative path, permission bits (07777) and then: for a directory whether it
 * is opaque ({@code trusted.} or {@code user.overlay.opaque=y}), for a file its size and the SHA-256 of its bytes,
 * for a symlink its target, for a device its device number. Every string is length-prefixed, so no two listings
 * collide by concatenation. Owners, times, hard-link structure and the root's own mode are not part of it.
 *
 * <p>An overlay upper that depends on its lowers (entries carrying {@code overlay.redirect} or
 * {@code overlay.metacopy}, written with overlayfs' redirect_dir or metacopy features) cannot stand alone as a
 * layer and is refused. Entries the owner cannot read are made readable for the time of reading.
 */
final class LayerTreeHash {
    private static final List<String> DEPENDENT_XATTRS = List.of("trusted.overlay.redirect",
            "trusted.overlay.metacopy", "user.overlay.redirect", "user.overlay.metacopy");

    private final Path root;
    private final DataOutputStream listing;
    private final MessageDigest digest;

    private LayerTreeHash(Path root) {
        this.root = root;
        this.digest = sha256();
        this.listing = new DataOutputStream(new DigestOutputStream(OutputStream.nullOutputStream(), digest));
    }

    /** The tree's id, {@code sha256:<hex>}. */
    static String of(Path root) throws IOException {
        LayerTreeHash hash = new LayerTreeHash(root);
        LayerFiles.withOwnerAccess(root, LayerFiles.mode(root), 0500, () -> hash.children(root, ""));
        hash.listing.flush();
        return "sha256:" + BaseEncoding.base16().lowerCase().encode(hash.digest.digest());
    }

    private void children(Path directory, String relative) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                names.add(entry.getFileName().toString());
            }
        }
        names.sort(null);
        for (String name : names) {
            entry(directory.resolve(name), relative.isEmpty() ? name : relative + "/" + name);
        }
    }

    private void entry(Path path, String relative) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(path, "unix:mode,size,rdev", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) attributes.get("mode");
        int type = mode & LayerNative.S_IFMT;
        listing.writeInt(type);
        string(relative);
        listing.writeInt(mode & 07777);
        switch (type) {
            case LayerNative.S_IFDIR -> LayerFiles.withOwnerAccess(path, mode, 0500, () -> {
                refuseDependent(path, relative);
                listing.writeBoolean(OverlayEntries.isOpaque(path));
                children(path, relative);
            });
            case LayerNative.S_IFREG -> LayerFiles.withOwnerAccess(path, mode, 0400, () -> {
                refuseDependent(path, relative);
                listing.writeLong((Long) attributes.get("size"));
                listing.write(contentHash(path));
            });
            case LayerNative.S_IFLNK -> string(Files.readSymbolicLink(path).toString());
            case LayerNative.S_IFCHR, LayerNative.S_IFBLK -> listing.writeLong((Long) attributes.get("rdev"));
            default -> {
                // fifos and sockets: type and mode say it all
            }
        }
    }

    private void refuseDependent(Path path, String relative) throws IOException {
        for (String name : DEPENDENT_XATTRS) {
            if (LayerNative.lgetxattr(path, name).isPresent()) {
                throw new IOException("cannot commit " + root + ": '" + relative + "' carries the overlay xattr "
                        + name + ", so it depends on the lower layers it was written over (mount the overlay"
                        + " without redirect_dir and metacopy)");
            }
        }
    }

    private static byte[] contentHash(Path file) throws IOException {
        MessageDigest content = sha256();
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buffer = new byte[65536];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                content.update(buffer, 0, n);
            }
        }
        return content.digest();
    }

    private void string(String value) throws IOException {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        listing.writeInt(bytes.length);
        listing.write(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}

package dev.isolation.fs.image;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the files of an image layout are read from: a directory, or a tar file read in place. */
interface ImageSource extends Closeable {

    /** The layout at {@code source}: a directory, or a tar (plain or gzip-compressed) holding one. */
    static ImageSource of(Path source) throws IOException {
        if (Files.isDirectory(source)) {
            return new DirectoryImageSource(source);
        }
        if (Files.isRegularFile(source)) {
            return TarImageSource.open(source);
        }
        throw new IOException("image " + source + ": neither a directory nor a tar file"
                + (Files.exists(source) ? "" : " (it does not exist)"));
    }

    /**
     * The file at {@code path} in the layout ({@code index.json}, {@code blobs/sha256/<hex>}), or empty when the
     * layout has no such regular file. The caller closes the stream.
     */
    Optional<InputStream> read(String path) throws IOException;

    /** A directory holding an image layout. */
    final class DirectoryImageSource implements ImageSource {
        private final Path root;

        DirectoryImageSource(Path root) {
            this.root = root;
        }

        @Override
        public Optional<InputStream> read(String path) throws IOException {
            Path file = root.resolve(path);
            if (!Files.isRegularFile(file)) {
                return Optional.empty();
            }
            return Optional.of(Files.newInputStream(file));
        }

        @Override
        public void close() {
        }
    }
}

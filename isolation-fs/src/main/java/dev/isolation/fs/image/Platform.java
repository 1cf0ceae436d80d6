package dev.isolation.fs.image;

import java.io.IOException;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/** The platform an image manifest is for, as an index's descriptors give it: {@code linux/amd64}, {@code linux/arm/v7}. */
record Platform(String os, String architecture, Optional<String> variant) {
    Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(variant, "variant");
    }

    /** Linux on the JVM's architecture, in OCI's names ({@code amd64}, {@code arm64}, ...). */
    static Platform ofJvm() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String oci = switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "x86", "i386", "i486", "i586", "i686" -> "386";
            case "arm" -> "arm";
            default -> arch;
        };
        return new Platform("linux", oci, Optional.empty());
    }

    static Platform parse(JsonFields platform) throws IOException {
        return new Platform(platform.string("os"), platform.string("architecture"),
                platform.optionalString("variant").filter(v -> !v.isEmpty()));
    }

    /** Whether this (a manifest's platform) runs on {@code wanted}: same os and architecture. */
    boolean runsOn(Platform wanted) {
        return os.equals(wanted.os) && architecture.equals(wanted.architecture);
    }

    @Override
    public String toString() {
        return os + "/" + architecture + variant.map(v -> "/" + v).orElse("");
    }
}

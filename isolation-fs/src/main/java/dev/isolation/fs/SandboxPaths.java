package dev.isolation.fs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Validation and lexical normalization of absolute paths as seen from inside a sandbox.
 *
 * <p>Everything here is purely textual: the filesystem is never consulted, so symbolic links are
 * not resolved. Because a {@code ".."} component could climb out of a directory the sandbox
 * exposes, such paths are rejected rather than resolved.
 */
public final class SandboxPaths {

  /** Longest path, in UTF-8 bytes, the kernel accepts ({@code PATH_MAX} minus the final NUL). */
  public static final int MAX_PATH_BYTES = 4095;

  /** Longest single path component, in UTF-8 bytes ({@code NAME_MAX}). */
  public static final int MAX_COMPONENT_BYTES = 255;

  private SandboxPaths() {
    throw new AssertionError("not instantiable");
  }

  /**
   * Validates an absolute path and returns its normalized form.
   *
   * <p>Normalization collapses repeated slashes, drops {@code "."} components and drops a trailing
   * slash; the root stays {@code "/"}.
   *
   * @param path an absolute path, e.g. {@code "/usr//lib/./jvm/"}
   * @return the normalized path, e.g. {@code "/usr/lib/jvm"}
   * @throws IllegalArgumentException if {@code path} is null, empty, contains a NUL character or an
   *     unpaired surrogate, does not start with {@code '/'}, contains a {@code ".."} component, has
   *     a component longer than {@value #MAX_COMPONENT_BYTES} UTF-8 bytes, or is (once normalized)
   *     longer than {@value #MAX_PATH_BYTES} UTF-8 bytes; the message quotes the path and says why
   */
  public static String normalizeAbsolute(String path) {
    if (path == null) {
      throw new IllegalArgumentException("path is null");
    }
    if (path.isEmpty()) {
      throw invalid(path, "it is empty");
    }
    if (path.indexOf('\0') >= 0) {
      throw invalid(path, "it contains a NUL character");
    }
    if (hasUnpairedSurrogate(path)) {
      throw invalid(path, "it contains an unpaired surrogate and cannot be encoded as UTF-8");
    }
    if (path.charAt(0) != '/') {
      throw invalid(path, "it is not absolute (does not start with '/')");
    }
    StringBuilder normalized = new StringBuilder(path.length());
    for (String component : path.split("/")) {
      if (component.isEmpty() || component.equals(".")) {
        continue;
      }
      if (component.equals("..")) {
        throw invalid(path, "it contains a \"..\" component, which could climb out of the sandbox");
      }
      int bytes = utf8Length(component);
      if (bytes > MAX_COMPONENT_BYTES) {
        throw invalid(
            path,
            "component \"" + component + "\" is " + bytes + " bytes in UTF-8, more than the "
                + MAX_COMPONENT_BYTES + " allowed");
      }
      normalized.append('/').append(component);
    }
    if (normalized.length() == 0) {
      normalized.append('/');
    }
    String result = normalized.toString();
    int bytes = utf8Length(result);
    if (bytes > MAX_PATH_BYTES) {
      throw invalid(
          path,
          "it is " + bytes + " bytes in UTF-8 once normalized, more than the " + MAX_PATH_BYTES
              + " allowed");
    }
    return result;
  }

  /**
   * Splits a normalized absolute path into its components.
   *
   * @param normalizedAbsolutePath a path as returned by {@link #normalizeAbsolute(String)}
   * @return the components in order, unmodifiable: {@code "/a/b"} gives {@code ["a", "b"]} and
   *     {@code "/"} gives an empty list
   * @throws IllegalArgumentException if the path is invalid or not in normalized form
   */
  public static List<String> components(String normalizedAbsolutePath) {
    String normalized = normalizeAbsolute(normalizedAbsolutePath);
    if (!normalized.equals(normalizedAbsolutePath)) {
      throw invalid(
          normalizedAbsolutePath, "it is not normalized (normalized form is \"" + normalized + "\")");
    }
    if (normalized.equals("/")) {
      return List.of();
    }
    List<String> result = new ArrayList<>();
    for (String component : normalized.substring(1).split("/")) {
      result.add(component);
    }
    return List.copyOf(result);
  }

  private static IllegalArgumentException invalid(String path, String why) {
    return new IllegalArgumentException(
        "invalid sandbox path \"" + path.replace("\0", "\\0") + "\": " + why);
  }

  private static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static boolean hasUnpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return true;
        }
      } else if (Character.isLowSurrogate(c)) {
        return true;
      }
    }
    return false;
  }
}

package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SandboxPathsTest {

  @ParameterizedTest(name = "\"{0}\" -> \"{1}\"")
  @CsvSource({
    "/, /",
    "//, /",
    "///, /",
    "/., /",
    "/./, /",
    "/a, /a",
    "/a/, /a",
    "/a/b, /a/b",
    "/a//b, /a/b",
    "//a///b//, /a/b",
    "/a/./b/., /a/b",
    "/./a/./, /a",
    "/.a/..b/b.., /.a/..b/b..",
    "/.../x, /.../x",
    "/a b/c, /a b/c",
  })
  void normalizes(String input, String expected) {
    assertThat(SandboxPaths.normalizeAbsolute(input)).isEqualTo(expected);
  }

  @Test
  void normalizedPathIsAFixedPoint() {
    String once = SandboxPaths.normalizeAbsolute("//usr/./lib//jvm/");
    assertThat(SandboxPaths.normalizeAbsolute(once)).isEqualTo(once).isEqualTo("/usr/lib/jvm");
  }

  @Test
  void keepsNonAsciiNames() {
    assertThat(SandboxPaths.normalizeAbsolute("/données//日本/")).isEqualTo("/données/日本");
  }

  @Test
  void rejectsNull() {
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("null");
  }

  @Test
  void rejectsEmpty() {
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"\"")
        .hasMessageContaining("empty");
  }

  @Test
  void rejectsNul() {
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute("/etc/pass\0wd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"/etc/pass\\0wd\"")
        .hasMessageContaining("NUL");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "a/b", "./a", "../a", " /a", "~/a", "\\a"})
  void rejectsRelative(String path) {
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"" + path + "\"")
        .hasMessageContaining("not absolute");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/..", "/../", "/a/..", "/a/../b", "/a/b/../../..", "//..//x", "/./.."})
  void rejectsDotDot(String path) {
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"" + path + "\"")
        .hasMessageContaining("\"..\"");
  }

  @Test
  void acceptsComponentOfExactly255Bytes() {
    String name = "x".repeat(255);
    assertThat(SandboxPaths.normalizeAbsolute("/" + name + "/")).isEqualTo("/" + name);
  }

  @Test
  void rejectsComponentLongerThan255Bytes() {
    String name = "x".repeat(256);
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute("/ok/" + name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"/ok/" + name + "\"")
        .hasMessageContaining("256 bytes")
        .hasMessageContaining("255");
  }

  @Test
  void componentLengthIsCountedInUtf8Bytes() {
    // 128 two-byte characters: 128 chars but 256 bytes.
    String name = "é".repeat(128);
    assertThat(name).hasSize(128);
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute("/" + name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("256 bytes");
    assertThat(SandboxPaths.normalizeAbsolute("/" + "é".repeat(127))).hasSize(128);
  }

  @Test
  void acceptsPathOfExactly4095Bytes() {
    String path = longPath(4095);
    assertThat(path.getBytes(java.nio.charset.StandardCharsets.UTF_8)).hasSize(4095);
    assertThat(SandboxPaths.normalizeAbsolute(path)).isEqualTo(path);
  }

  @Test
  void rejectsPathLongerThan4095Bytes() {
    String path = longPath(4096);
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"" + path + "\"")
        .hasMessageContaining("4096 bytes")
        .hasMessageContaining("4095");
  }

  @Test
  void pathLengthIsCountedInUtf8Bytes() {
    // 16 components of "/" + 127 two-byte chars = 16 * 255 = 4080 bytes, then 16 more ASCII bytes.
    String component = "/" + "é".repeat(127);
    String path = component.repeat(16) + "/" + "y".repeat(15);
    assertThat(path.length()).isLessThan(4095);
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4096 bytes");
  }

  @Test
  void lengthLimitAppliesToNormalizedForm() {
    String path = "/".repeat(5000) + "a";
    assertThat(SandboxPaths.normalizeAbsolute(path)).isEqualTo("/a");
  }

  @Test
  void rejectsUnpairedSurrogate() {
    assertThatThrownBy(() -> SandboxPaths.normalizeAbsolute("/a\uD800b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("surrogate");
    assertThat(SandboxPaths.normalizeAbsolute("/\uD83D\uDE00")).isEqualTo("/\uD83D\uDE00");
  }

  @Test
  void componentsOfRootIsEmpty() {
    assertThat(SandboxPaths.components("/")).isEmpty();
  }

  @Test
  void componentsSplitsOnSlash() {
    assertThat(SandboxPaths.components("/a")).containsExactly("a");
    assertThat(SandboxPaths.components("/a/b")).containsExactly("a", "b");
    assertThat(SandboxPaths.components("/usr/lib/jvm")).containsExactly("usr", "lib", "jvm");
  }

  @Test
  void componentsIsUnmodifiable() {
    assertThatThrownBy(() -> SandboxPaths.components("/a").add("b"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a/", "//a", "/a/./b", "/a//b"})
  void componentsRejectsNonNormalizedPath(String path) {
    assertThatThrownBy(() -> SandboxPaths.components(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"" + path + "\"")
        .hasMessageContaining("not normalized");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a/b", "/a/../b"})
  void componentsRejectsInvalidPath(String path) {
    assertThatThrownBy(() -> SandboxPaths.components(path))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void componentsRejectsNull() {
    assertThatThrownBy(() -> SandboxPaths.components(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("null");
  }

  @Test
  void isNotInstantiable() throws Exception {
    Constructor<SandboxPaths> constructor = SandboxPaths.class.getDeclaredConstructor();
    assertThat(Modifier.isPrivate(constructor.getModifiers())).isTrue();
    assertThat(Modifier.isFinal(SandboxPaths.class.getModifiers())).isTrue();
    constructor.setAccessible(true);
    assertThatThrownBy(constructor::newInstance)
        .isInstanceOf(InvocationTargetException.class)
        .hasCauseInstanceOf(AssertionError.class);
  }

  /** An absolute path of exactly {@code bytes} ASCII bytes made of valid-length components. */
  private static String longPath(int bytes) {
    StringBuilder sb = new StringBuilder();
    while (sb.length() + 201 <= bytes) {
      sb.append('/').append("c".repeat(200));
    }
    int remaining = bytes - sb.length();
    if (remaining > 0) {
      sb.append('/').append("d".repeat(remaining - 1));
    }
    return sb.toString();
  }
}

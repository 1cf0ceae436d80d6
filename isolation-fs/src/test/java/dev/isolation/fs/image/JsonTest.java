package dev.isolation.fs.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object value = Json.parse(" {\"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"n\": -12, \"big\": 123456789012345678901,"
                + " \"f\": 1.5e2, \"t\": true, \"no\": false, \"nil\": null, \"list\": [1, [], {}], \"empty\": {}}\n");

        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) value;
        assertThat(map).containsOnlyKeys("s", "n", "big", "f", "t", "no", "nil", "list", "empty");
        assertThat(map.keySet()).containsExactly("s", "n", "big", "f", "t", "no", "nil", "list", "empty");
        assertThat(map.get("s")).isEqualTo("a\"b\\c/\n\u00e9\ud83d\ude00");
        assertThat(map.get("n")).isEqualTo(-12L);
        assertThat(map.get("big")).isEqualTo(new BigDecimal("123456789012345678901"));
        assertThat(map.get("f")).isEqualTo(new BigDecimal("1.5e2"));
        assertThat(map.get("t")).isEqualTo(true);
        assertThat(map.get("no")).isEqualTo(false);
        assertThat(map).containsEntry("nil", null);
        assertThat(map.get("list")).isEqualTo(List.of(1L, List.of(), Map.of()));
        assertThat(Json.parse("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThat(Json.parse("\"x\"")).isEqualTo("x");
    }

    @Test
    void parsedValuesAreUnmodifiable() {
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) Json.parse("{\"a\": [1]}");

        assertThatThrownBy(() -> map.put("b", 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> ((List<?>) map.get("a")).clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void errorsGiveLineColumnAndOffset() {
        assertThatThrownBy(() -> Json.parse("{\n  \"a\": 1,\n  \"b\" 2\n}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("JSON error at line 3, column 7 (offset 18): expected ':' after an object key");
    }

    @Test
    void refusesWhatTheGrammarDoesNotAllow() {
        for (String text : List.of("", "{", "[1,]", "{\"a\":1,}", "01", "-", "1.", "1e", "'a'", "{a:1}", "[1 2]",
                "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "tru", "nul", "1 2", "// c\n1", "\"\\ud800\"", "\"\\udc00x\"",
                "NaN", "+1", "\"unterminated")) {
            assertThatThrownBy(() -> Json.parse(text)).as(text).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("JSON error");
        }
    }

    @Test
    void refusesDuplicateKeys() {
        assertThatThrownBy(() -> Json.parse("{\"a\": 1, \"a\": 2}")).hasMessageContaining("duplicate object key \"a\"")
                .hasMessageContaining("offset 9");
    }

    @Test
    void limitsTheDepth() {
        String deep = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        String tooDeep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        String veryDeep = "{\"a\":".repeat(100_000);

        assertThat(Json.parse(deep)).isInstanceOf(List.class);
        assertThatThrownBy(() -> Json.parse(tooDeep)).hasMessageContaining("nested deeper than 64");
        assertThatThrownBy(() -> Json.parse(veryDeep)).hasMessageContaining("nested deeper than 64");
    }

    @Test
    void refusesInvalidUtf8() {
        byte[] bytes = "\"a\"".getBytes(StandardCharsets.UTF_8);
        byte[] invalid = Arrays.copyOf(bytes, bytes.length);
        invalid[1] = (byte) 0xff;

        assertThat(Json.parse(bytes)).isEqualTo("a");
        assertThatThrownBy(() -> Json.parse(invalid)).hasMessageContaining("not valid UTF-8");
    }
}

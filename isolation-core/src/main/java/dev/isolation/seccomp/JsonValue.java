package dev.isolation.seccomp;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) reader for seccomp profiles: objects become {@code Map<String, Object>} in
 * document order, arrays {@code List<Object>}, strings {@link String}, integers {@link BigInteger} (a profile's
 * numbers are integers up to 2^64 - 1), and {@link Boolean} or {@code null}. Refused, with the line and column:
 * anything outside the grammar, numbers with a fraction or exponent, duplicate keys, and nesting deeper than
 * {@value #MAX_DEPTH}.
 */
final class JsonValue {
    static final int MAX_DEPTH = 32;

    private final String text;
    private int position;
    private int depth;

    private JsonValue(String text) {
        this.text = text;
    }

    static Object parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("JSON text == null");
        }
        JsonValue reader = new JsonValue(text);
        Object value = reader.value();
        reader.whitespace();
        if (reader.position != text.length()) {
            throw reader.error("text after the JSON value");
        }
        return value;
    }

    private Object value() {
        whitespace();
        if (position >= text.length()) {
            throw error("end of input where a value was expected");
        }
        char c = text.charAt(position);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> word("true", Boolean.TRUE);
            case 'f' -> word("false", Boolean.FALSE);
            case 'n' -> word("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected " + describe(c));
            }
        };
    }

    private Map<String, Object> object() {
        nest();
        position++;
        Map<String, Object> members = new LinkedHashMap<>();
        whitespace();
        if (peek() == '}') {
            position++;
            depth--;
            return Collections.unmodifiableMap(members);
        }
        while (true) {
            whitespace();
            if (peek() != '"') {
                throw error("expected a string key");
            }
            int keyAt = position;
            String key = string();
            whitespace();
            if (peek() != ':') {
                throw error("expected ':' after a key");
            }
            position++;
            Object value = value();
            if (members.containsKey(key)) {
                position = keyAt;
                throw error("duplicate key \"" + key + "\"");
            }
            members.put(key, value);
            whitespace();
            char next = peek();
            position++;
            if (next == '}') {
                depth--;
                return Collections.unmodifiableMap(members);
            }
            if (next != ',') {
                position--;
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array() {
        nest();
        position++;
        List<Object> elements = new ArrayList<>();
        whitespace();
        if (peek() == ']') {
            position++;
            depth--;
            return Collections.unmodifiableList(elements);
        }
        while (true) {
            elements.add(value());
            whitespace();
            char next = peek();
            position++;
            if (next == ']') {
                depth--;
                return Collections.unmodifiableList(elements);
            }
            if (next != ',') {
                position--;
                throw error("expected ',' or ']'");
            }
        }
    }

    private String string() {
        position++;
        StringBuilder out = new StringBuilder();
        while (true) {
            if (position >= text.length()) {
                throw error("end of input inside a string");
            }
            char c = text.charAt(position++);
            if (c == '"') {
                return out.toString();
            }
            if (c < 0x20) {
                position--;
                throw error("control character " + describe(c) + " inside a string");
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (position >= text.length()) {
                throw error("end of input inside a string");
            }
            char escape = text.charAt(position++);
            switch (escape) {
                case '"', '\\', '/' -> out.append(escape);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (position + 4 > text.length()) {
                        throw error("end of input inside a \\u escape");
                    }
                    int unit = 0;
                    for (int i = 0; i < 4; i++) {
                        int digit = Character.digit(text.charAt(position++), 16);
                        if (digit < 0) {
                            position--;
                            throw error("not a hex digit in a \\u escape");
                        }
                        unit = unit << 4 | digit;
                    }
                    out.append((char) unit);
                }
                default -> {
                    position--;
                    throw error("invalid escape \\" + escape);
                }
            }
        }
    }

    private BigInteger number() {
        int start = position;
        if (peek() == '-') {
            position++;
        }
        if (peek() == '0') {
            position++;
        } else if (isDigit(peek())) {
            while (isDigit(peek())) {
                position++;
            }
        } else {
            throw error("expected a digit");
        }
        if (peek() == '.' || peek() == 'e' || peek() == 'E') {
            throw error("a number with a fraction or exponent: seccomp profiles hold integers only");
        }
        if (isDigit(peek())) {
            throw error("leading zero in a number");
        }
        return new BigInteger(text.substring(start, position));
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object word(String word, Object value) {
        if (!text.startsWith(word, position)) {
            throw error("unexpected " + describe(text.charAt(position)));
        }
        position += word.length();
        return value;
    }

    private void nest() {
        if (++depth > MAX_DEPTH) {
            throw error("nested deeper than " + MAX_DEPTH + " levels");
        }
    }

    private char peek() {
        return position < text.length() ? text.charAt(position) : '\0';
    }

    private void whitespace() {
        while (position < text.length()) {
            char c = text.charAt(position);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            position++;
        }
    }

    private static String describe(char c) {
        return c > 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private IllegalArgumentException error(String reason) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < Math.min(position, text.length()); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new IllegalArgumentException("seccomp profile: JSON error at line " + line + ", column " + column
                + ": " + reason);
    }
}

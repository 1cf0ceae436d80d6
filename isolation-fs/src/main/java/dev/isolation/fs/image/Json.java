package dev.isolation.fs.image;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict RFC 8259 JSON parser for image metadata. Values become {@code Map<String, Object>} (insertion order,
 * unmodifiable), {@code List<Object>} (unmodifiable), {@link String}, {@link Long} (integers that fit) or
 * {@link BigDecimal} (other numbers), {@link Boolean} and {@code null}.
 *
 * <p>Refused with an {@link IllegalArgumentException} giving the line, column and offset: anything outside the
 * grammar (comments, trailing commas, leading zeros, single quotes, unescaped control characters, text after the
 * value), duplicate object keys (parsers disagree on which one wins, so a blob that has them could mean different
 * things to different readers), lone surrogate escapes, and nesting deeper than {@value #MAX_DEPTH}.
 */
public final class Json {
    /** How deeply arrays and objects may nest. */
    static final int MAX_DEPTH = 64;

    private final String text;
    private int position;
    private int depth;

    private Json(String text) {
        this.text = text;
    }

    /** Parses a whole JSON text. */
    public static Object parse(String text) {
        Json parser = new Json(text);
        Object value = parser.value();
        parser.skipWhitespace();
        if (parser.position < text.length()) {
            throw parser.error("unexpected text after the JSON value");
        }
        return value;
    }

    /** Parses a whole JSON text given as UTF-8 bytes (invalid UTF-8 is refused). */
    static Object parse(byte[] utf8) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("JSON error: the text is not valid UTF-8");
        }
        return parse(text);
    }

    private Object value() {
        skipWhitespace();
        if (position >= text.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = text.charAt(position);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected character " + describe(c) + ", expected a value");
            }
        };
    }

    private Map<String, Object> object() {
        enter();
        position++;
        Map<String, Object> members = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            position++;
            depth--;
            return Collections.unmodifiableMap(members);
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a string as object key");
            }
            int keyPosition = position;
            String key = string();
            skipWhitespace();
            expect(':', "after an object key");
            Object value = value();
            if (members.containsKey(key)) {
                position = keyPosition;
                throw error("duplicate object key \"" + key + "\"");
            }
            members.put(key, value);
            skipWhitespace();
            char next = peek();
            if (next == ',') {
                position++;
            } else if (next == '}') {
                position++;
                depth--;
                return Collections.unmodifiableMap(members);
            } else {
                throw error("expected ',' or '}' in an object");
            }
        }
    }

    private List<Object> array() {
        enter();
        position++;
        List<Object> elements = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            position++;
            depth--;
            return Collections.unmodifiableList(elements);
        }
        while (true) {
            elements.add(value());
            skipWhitespace();
            char next = peek();
            if (next == ',') {
                position++;
            } else if (next == ']') {
                position++;
                depth--;
                return Collections.unmodifiableList(elements);
            } else {
                throw error("expected ',' or ']' in an array");
            }
        }
    }

    private String string() {
        position++;
        StringBuilder value = new StringBuilder();
        while (true) {
            if (position >= text.length()) {
                throw error("unexpected end of input inside a string");
            }
            char c = text.charAt(position);
            if (c == '"') {
                position++;
                return value.toString();
            }
            if (c < 0x20) {
                throw error("unescaped control character " + describe(c) + " in a string");
            }
            if (c != '\\') {
                value.append(c);
                position++;
                continue;
            }
            position++;
            char escape = position < text.length() ? text.charAt(position) : '\0';
            switch (escape) {
                case '"', '\\', '/' -> value.append(escape);
                case 'b' -> value.append('\b');
                case 'f' -> value.append('\f');
                case 'n' -> value.append('\n');
                case 'r' -> value.append('\r');
                case 't' -> value.append('\t');
                case 'u' -> {
                    char unit = hex4();
                    if (Character.isHighSurrogate(unit)) {
                        if (!text.startsWith("\\u", position + 1)) {
                            throw error("lone high surrogate \\u" + Integer.toHexString(unit) + " in a string");
                        }
                        position += 2;
                        char low = hex4();
                        if (!Character.isLowSurrogate(low)) {
                            throw error("high surrogate not followed by a low surrogate in a string");
                        }
                        value.append(unit).append(low);
                    } else if (Character.isLowSurrogate(unit)) {
                        throw error("lone low surrogate \\u" + Integer.toHexString(unit) + " in a string");
                    } else {
                        value.append(unit);
                    }
                }
                default -> throw error("invalid escape sequence in a string");
            }
            position++;
        }
    }

    /** Reads the four hex digits after "\\u" (position is on the 'u'); leaves position on the last digit. */
    private char hex4() {
        if (position + 4 >= text.length()) {
            throw error("unexpected end of input inside a \\u escape");
        }
        int value = 0;
        for (int i = 1; i <= 4; i++) {
            int digit = Character.digit(text.charAt(position + i), 16);
            if (digit < 0) {
                position += i;
                throw error("invalid hex digit in a \\u escape");
            }
            value = value << 4 | digit;
        }
        position += 4;
        return (char) value;
    }

    private Object number() {
        int start = position;
        if (peek() == '-') {
            position++;
        }
        if (peek() == '0') {
            position++;
            if (isDigit(peek())) {
                throw error("leading zero in a number");
            }
        } else if (isDigit(peek())) {
            digits();
        } else {
            throw error("expected a digit in a number");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            position++;
            if (!isDigit(peek())) {
                throw error("expected a digit after the decimal point");
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            position++;
            if (peek() == '+' || peek() == '-') {
                position++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent");
            }
            digits();
        }
        String literal = text.substring(start, position);
        if (integral && literal.length() <= 18) {
            return Long.parseLong(literal);
        }
        try {
            BigDecimal decimal = new BigDecimal(literal);
            if (integral && decimal.toBigInteger().bitLength() < 64) {
                return decimal.longValueExact();
            }
            return decimal;
        } catch (NumberFormatException | ArithmeticException e) {
            position = start;
            throw error("number out of range");
        }
    }

    private void digits() {
        while (isDigit(peek())) {
            position++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, position)) {
            throw error("unexpected character " + describe(text.charAt(position)) + ", expected a value");
        }
        position += word.length();
        return value;
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw error("nested deeper than " + MAX_DEPTH + " levels");
        }
    }

    private void expect(char expected, String where) {
        if (peek() != expected) {
            throw error("expected '" + expected + "' " + where);
        }
        position++;
    }

    private char peek() {
        return position < text.length() ? text.charAt(position) : '\0';
    }

    private void skipWhitespace() {
        while (position < text.length()) {
            char c = text.charAt(position);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            position++;
        }
    }

    private static String describe(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
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
        return new IllegalArgumentException("JSON error at line " + line + ", column " + column + " (offset "
                + position + "): " + reason);
    }
}

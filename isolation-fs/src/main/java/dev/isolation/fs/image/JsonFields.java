package dev.isolation.fs.image;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Typed access to one parsed JSON object of an image document, with errors that name the document and the
 * field: {@code manifest sha256:ab..: "layers" must be a list, not a string}.
 */
final class JsonFields {
    private final Map<String, Object> members;
    private final String where;

    private JsonFields(Map<String, Object> members, String where) {
        this.members = members;
        this.where = where;
    }

    /** {@code value} as an object; {@code where} names it in errors. */
    @SuppressWarnings("unchecked")
    static JsonFields of(Object value, String where) throws IOException {
        if (!(value instanceof Map)) {
            throw new IOException(where + " must be a JSON object, not " + kind(value));
        }
        return new JsonFields((Map<String, Object>) value, where);
    }

    String where() {
        return where;
    }

    /** A string that must be there. */
    String string(String key) throws IOException {
        return optionalString(key).orElseThrow(() -> new IOException(where + ": \"" + key + "\" is missing"));
    }

    /** A string that may be missing or null. */
    Optional<String> optionalString(String key) throws IOException {
        Object value = members.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String)) {
            throw new IOException(where + ": \"" + key + "\" must be a string, not " + kind(value));
        }
        return Optional.of((String) value);
    }

    /** An integer that must be there and fit in a long. */
    long integer(String key) throws IOException {
        Object value = members.get(key);
        if (value == null) {
            throw new IOException(where + ": \"" + key + "\" is missing");
        }
        if (!(value instanceof Long)) {
            throw new IOException(where + ": \"" + key + "\" must be an integer, not " + kind(value));
        }
        return (Long) value;
    }

    /** A list of strings; missing or null is an empty list. */
    List<String> strings(String key) throws IOException {
        List<String> strings = new ArrayList<>();
        for (Object element : list(key)) {
            if (!(element instanceof String)) {
                throw new IOException(where + ": \"" + key + "\" must be a list of strings, but holds " + kind(element));
            }
            strings.add((String) element);
        }
        return List.copyOf(strings);
    }

    /** An object that must be there. */
    JsonFields object(String key) throws IOException {
        return optionalObject(key).orElseThrow(() -> new IOException(where + ": \"" + key + "\" is missing"));
    }

    /** An object that may be missing or null. */
    Optional<JsonFields> optionalObject(String key) throws IOException {
        Object value = members.get(key);
        if (value == null) {
            return Optional.empty();
        }
        return Optional.of(of(value, where + ": \"" + key + "\""));
    }

    /** A list of objects; missing or null is an empty list. */
    List<JsonFields> objects(String key) throws IOException {
        List<JsonFields> objects = new ArrayList<>();
        List<Object> elements = list(key);
        for (int i = 0; i < elements.size(); i++) {
            objects.add(of(elements.get(i), where + ": \"" + key + "\"[" + i + "]"));
        }
        return List.copyOf(objects);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(String key) throws IOException {
        Object value = members.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List)) {
            throw new IOException(where + ": \"" + key + "\" must be a list, not " + kind(value));
        }
        return (List<Object>) value;
    }

    private static String kind(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof List) {
            return "a list";
        }
        if (value instanceof String) {
            return "a string";
        }
        if (value instanceof Long || value instanceof BigDecimal) {
            return "a number";
        }
        if (value instanceof Boolean) {
            return "a boolean";
        }
        return value.getClass().getSimpleName();
    }
}

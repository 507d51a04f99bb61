package io.globalregistry.name;

import io.globalregistry.InvalidNameException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns any JSON-able value (strings, numbers, booleans, lists, maps, records, beans) into its
 * {@link GlobalName}: compact JSON with object keys sorted, integral numbers written as integers
 * and other numbers in their shortest decimal form. Equal values give equal keys whatever the
 * order of map entries; {@code 42}, {@code 42L} and {@code 42.0} are the same name.
 *
 * <p>Strings, integers and booleans take a fast path that skips Jackson, since
 * {@code whereis} encodes a name on every lookup.
 */
public final class NameCodec {

    /** The longest canonical form accepted, in characters. */
    public static final int MAX_KEY_LENGTH = 1024;

    private final ObjectMapper mapper;

    public NameCodec() {
        this(JsonMapper.builder().enable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build());
    }

    public NameCodec(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** The canonical name of {@code value}; throws {@link InvalidNameException} when it has none. */
    public GlobalName encode(Object value) {
        return new GlobalName(canonicalKey(value));
    }

    /** The canonical JSON text of {@code value}. */
    public String canonicalKey(Object value) {
        if (value == null) {
            throw new InvalidNameException("A name must not be null");
        }
        String key;
        if (value instanceof String s) {
            key = quote(s);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            key = Long.toString(((Number) value).longValue());
        } else if (value instanceof Boolean b) {
            key = b.toString();
        } else {
            key = canonicalTree(value);
        }
        if (key.length() > MAX_KEY_LENGTH) {
            throw new InvalidNameException("A name's canonical JSON form may have at most " + MAX_KEY_LENGTH
                    + " characters, this one has " + key.length());
        }
        return key;
    }

    /** Reads a canonical key back as a JSON tree (for display). */
    public JsonNode decode(GlobalName name) {
        return mapper.readTree(name.key());
    }

    /** Re-canonicalises JSON text received from elsewhere; throws {@link InvalidNameException} if it is not JSON. */
    public GlobalName fromJson(String json) {
        try {
            JsonNode tree = mapper.readTree(json);
            if (tree == null || tree.isMissingNode() || tree.isNull()) {
                throw new InvalidNameException("A name must not be null");
            }
            StringBuilder out = new StringBuilder(json.length());
            write(tree, out);
            return new GlobalName(out.toString());
        } catch (JacksonException e) {
            throw new InvalidNameException("Not a JSON name: " + e.getOriginalMessage(), e);
        }
    }

    private String canonicalTree(Object value) {
        JsonNode tree;
        try {
            tree = mapper.valueToTree(value);
        } catch (JacksonException | IllegalArgumentException e) {
            throw new InvalidNameException("Cannot use a " + value.getClass().getName()
                    + " as a name: it has no JSON form (" + e.getMessage() + ")", e);
        } catch (StackOverflowError e) {
            throw new InvalidNameException("Cannot use a " + value.getClass().getName()
                    + " as a name: it refers to itself or nests too deep");
        }
        if (tree == null || tree.isNull() || tree.isMissingNode()) {
            throw new InvalidNameException("A " + value.getClass().getName() + " encodes to JSON null; a name must not be null");
        }
        StringBuilder out = new StringBuilder(64);
        write(tree, out);
        return out.toString();
    }

    private void write(JsonNode node, StringBuilder out) {
        if (node.isObject()) {
            List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(node.properties());
            fields.sort(Map.Entry.comparingByKey());
            out.append('{');
            for (int i = 0; i < fields.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(quote(fields.get(i).getKey())).append(':');
                write(fields.get(i).getValue(), out);
            }
            out.append('}');
        } else if (node.isArray()) {
            out.append('[');
            for (int i = 0; i < node.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                write(node.get(i), out);
            }
            out.append(']');
        } else if (node.isNumber()) {
            out.append(canonicalNumber(node));
        } else if (node.isString()) {
            out.append(quote(node.asString()));
        } else if (node.isBoolean() || node.isNull()) {
            out.append(node.toString());
        } else if (node.isBinary()) {
            out.append(quote(node.asString()));
        } else {
            throw new InvalidNameException("A name may hold only JSON values, not " + node.getNodeType());
        }
    }

    private static String canonicalNumber(JsonNode node) {
        if (node.isIntegralNumber()) {
            return node.bigIntegerValue().toString();
        }
        if ((node.isDouble() || node.isFloat()) && !Double.isFinite(node.doubleValue())) {
            throw new InvalidNameException("A name may not hold NaN or infinity");
        }
        BigDecimal decimal = node.decimalValue().stripTrailingZeros();
        if (decimal.scale() <= 0) {
            return decimal.toBigIntegerExact().toString();
        }
        return decimal.toPlainString();
    }

    private String quote(String s) {
        String fast = quoteFastOrNull(s);
        return fast != null ? fast : mapper.writeValueAsString(s);
    }

    /** JSON-quotes {@code s} when it needs no escaping, else returns null. */
    private static String quoteFastOrNull(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) {
                return null;
            }
        }
        return "\"" + s + "\"";
    }

}

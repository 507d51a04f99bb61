package io.globalregistry.invoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.globalregistry.MessageTooLargeException;
import io.globalregistry.OneWay;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Arguments and results as JSON, read back as the declared (generic) types. */
class CallJsonTest {

    record Point(int x, int y) {
    }

    interface Repo<T> {
        T one(T example);

        List<T> all(Map<String, List<T>> byName);

        CompletableFuture<T> later();

        CompletionStage<List<T>> laterAll();

        void nothing(int a, long b, double c, boolean d, String e);

        int primitive();

        @OneWay
        void fireAndForget(T value);
    }

    interface PointRepo extends Repo<Point> {
    }

    /** Not JSON-able. */
    static final class Opaque {
        private final Object secret = new Object();
    }

    /** As the registry's default payload mapper. */
    private final JsonMapper mapper = JsonMapper.builder().enable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build();
    private final CallJson json = new CallJson(mapper, 8 * 1024);

    private MethodPlan plan(String name) {
        for (Method method : PointRepo.class.getMethods()) {
            if (method.getName().equals(name)) {
                return MethodPlan.of(PointRepo.class, method, mapper.getTypeFactory());
            }
        }
        throw new AssertionError(name);
    }

    @Test
    void resultTypesShouldBeResolvedAgainstTheProxiedInterfaceAndFuturesUnwrapped() {
        assertThat(plan("one").resultType.getRawClass()).isEqualTo(Point.class);
        JavaType all = plan("all").resultType;
        assertThat(all.getRawClass()).isEqualTo(List.class);
        assertThat(all.getContentType().getRawClass()).isEqualTo(Point.class);
        assertThat(plan("later").async).isTrue();
        assertThat(plan("later").resultType.getRawClass()).isEqualTo(Point.class);
        assertThat(plan("laterAll").resultType.getContentType().getRawClass()).isEqualTo(Point.class);
        assertThat(plan("nothing").resultType).isNull();
        assertThat(plan("nothing").params).containsExactly("int", "long", "double", "boolean", "java.lang.String");
        assertThat(plan("one").params).as("the erasure, as declared").containsExactly("java.lang.Object");
        assertThat(plan("fireAndForget").oneWay).isTrue();
    }

    @Test
    void argumentsShouldTravelAsAJsonArrayAndBeReadAsTheTargetsGenericTypes() throws Exception {
        JsonNode args = json.arguments("\"k\"", plan("all"), new Object[] {Map.of("a", List.of(new Point(1, 2)))});
        assertThat(args.isArray()).isTrue();
        assertThat(args.toString()).isEqualTo("[{\"a\":[{\"x\":1,\"y\":2}]}]");

        Method target = Target.class.getMethod("all", Map.class);
        Object[] read = json.readArguments(args, json.parameterTypes(Target.class, target));
        @SuppressWarnings("unchecked")
        Map<String, List<Point>> byName = (Map<String, List<Point>>) read[0];
        assertThat(byName.get("a").get(0)).isInstanceOf(Point.class).isEqualTo(new Point(1, 2));
    }

    @Test
    void nullsAndPrimitivesShouldSurviveTheTrip() throws Exception {
        JsonNode args = json.arguments("\"k\"", plan("nothing"), new Object[] {1, Long.MAX_VALUE, 0.5, true, null});
        Method target = Target.class.getMethod("nothing", int.class, long.class, double.class, boolean.class, String.class);
        assertThat(json.readArguments(args, json.parameterTypes(Target.class, target)))
                .containsExactly(1, Long.MAX_VALUE, 0.5, true, null);
        assertThat(json.arguments("\"k\"", plan("primitive"), null).size()).isZero();

        assertThat(json.readResult(json.result(null), plan("one").resultType)).isNull();
        assertThat(json.readResult(json.result(null), plan("primitive").resultType)).isEqualTo(0);
        assertThat(json.readResult(json.result(new Point(3, 4)), plan("one").resultType)).isEqualTo(new Point(3, 4));
        assertThat(json.readResult(json.result(List.of(new Point(5, 6))), plan("all").resultType))
                .asList().containsExactly(new Point(5, 6));
        assertThat(json.readResult(json.result(Optional.of("x").get()), mapper.constructType(String.class))).isEqualTo("x");
    }

    @Test
    void oversizeArgumentsShouldBeRefusedBeforeSendingAndOversizeResultsReported() {
        assertThatThrownBy(() -> json.arguments("\"k\"", plan("one"), new Object[] {"x".repeat(10_000)}))
                .isInstanceOfSatisfying(MessageTooLargeException.class, e -> {
                    assertThat(e.bytes()).isGreaterThan(10_000);
                    assertThat(e.limit()).isLessThan(8 * 1024);
                    assertThat(e.method()).isEqualTo("Repo.one");
                    assertThat(e.name()).isEqualTo("\"k\"");
                });
        assertThatThrownBy(() -> json.result("x".repeat(10_000))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("max-message-size");
    }

    @Test
    void valuesWithoutJsonFormShouldBeRefusedClearly() {
        assertThatThrownBy(() -> json.arguments("\"k\"", plan("one"), new Object[] {new Opaque()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no JSON form");
        assertThatThrownBy(() -> json.result(new Opaque())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Opaque");
    }

    @Test
    void argumentsThatDoNotFitTheTargetsTypesShouldBeRefused() throws Exception {
        Method target = Target.class.getMethod("nothing", int.class, long.class, double.class, boolean.class, String.class);
        JsonNode wrong = mapper.readTree("[\"not a number\",1,1,true,null]");
        assertThatThrownBy(() -> json.readArguments(wrong, json.parameterTypes(Target.class, target)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("argument 0");
        assertThatThrownBy(() -> json.readArguments(mapper.readTree("[1]"), json.parameterTypes(Target.class, target)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 arguments for 5 parameters");
    }

    /** A target with its own (concrete) parameter types. */
    public static class Target {
        public List<Point> all(Map<String, List<Point>> byName) {
            return byName.values().iterator().next();
        }

        public void nothing(int a, long b, double c, boolean d, String e) {
        }
    }
}

package io.globalregistry.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.RemoteInvocationException;
import io.globalregistry.membership.NodeId;
import java.io.IOException;
import java.lang.reflect.Method;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** How the owner finds the method a call names, and how the caller rebuilds exceptions. */
class TargetMethodsTest {

    interface Store<T> {
        void put(T item);
    }

    /** A target with an overload, a generic method, a static and a private one. */
    static class Items implements Store<String> {
        @Override
        public void put(String item) {
        }

        public int size(String kind) {
            return 1;
        }

        public int size(Integer kind) {
            return 2;
        }

        public int size() {
            return 0;
        }

        public static int helper(String x) {
            return 0;
        }

        private int hidden(String x) {
            return 0;
        }
    }

    private final TargetMethods methods = new TargetMethods(new CallJson(JsonMapper.builder().build(), 1 << 20));

    @Test
    void aCallShouldFindTheMethodByExactSignatureElseByUnambiguousArity() {
        assertThat(methods.find(Items.class, "put", List.of("java.lang.String")).method.getName()).isEqualTo("put");
        // the caller's interface declares put(T): erased to Object; the target's put(String) is the only one-argument put
        assertThat(methods.find(Items.class, "put", List.of("java.lang.Object")).parameterTypes[0].getRawClass())
                .isEqualTo(String.class);
        assertThat(methods.find(Items.class, "size", List.of("java.lang.Integer")).method.getParameterTypes())
                .containsExactly(Integer.class);
        assertThat(methods.find(Items.class, "size", List.of()).method.getParameterCount()).isZero();
        assertThat(methods.find(Items.class, "size", List.of("java.lang.Long"))).as("ambiguous by arity").isNull();
    }

    @Test
    void onlyTheTargetsOwnPublicInstanceMethodsShouldBeCallable() {
        assertThat(methods.find(Items.class, "helper", List.of("java.lang.String"))).as("static").isNull();
        assertThat(methods.find(Items.class, "hidden", List.of("java.lang.String"))).as("private").isNull();
        assertThat(methods.find(Items.class, "getClass", List.of())).as("Object's").isNull();
        assertThat(methods.find(Items.class, "wait", List.of())).as("Object's").isNull();
        assertThat(methods.find(Items.class, "notifyAll", List.of())).as("Object's").isNull();
        assertThat(methods.find(Items.class, "java.lang.Runtime.exec", List.of("java.lang.String"))).isNull();
    }

    /** Declares a checked exception. */
    interface Files {
        String read(String path) throws IOException;

        String plain(String path);
    }

    @Test
    void aDeclaredExceptionShouldBeRebuiltAsItsTypeAndAnyOtherReportedAsRemote() throws Exception {
        NodeId owner = new NodeId("a", "000000000001");
        JsonMapper mapper = JsonMapper.builder().build();
        Method read = Files.class.getMethod("read", String.class);
        Method plain = Files.class.getMethod("plain", String.class);
        MethodPlan readPlan = MethodPlan.of(Files.class, read, mapper.getTypeFactory());
        MethodPlan plainPlan = MethodPlan.of(Files.class, plain, mapper.getTypeFactory());

        Throwable notFound = RemoteErrors.rebuild(readPlan, "\"f\"", owner,
                RemoteErrors.typesOf(new java.io.FileNotFoundException("gone")), "gone");
        assertThat(notFound).as("a subclass the caller may not have: rebuilt as the declared type")
                .isExactlyInstanceOf(IOException.class).hasMessage("gone")
                .cause().isInstanceOfSatisfying(RemoteInvocationException.class,
                        e -> assertThat(e.remoteClass()).isEqualTo("java.io.FileNotFoundException"));

        Throwable undeclared = RemoteErrors.rebuild(plainPlan, "\"f\"", owner,
                RemoteErrors.typesOf(new IllegalStateException("x")), "x");
        assertThat(undeclared).isInstanceOfSatisfying(RemoteInvocationException.class, e -> {
            assertThat(e.remoteClass()).isEqualTo("java.lang.IllegalStateException");
            assertThat(e.owner()).isEqualTo(owner);
            assertThat(e.method()).isEqualTo("Files.plain");
        });
        Throwable unknownName = RemoteErrors.rebuild(readPlan, "\"f\"", owner, List.of("com.evil.Gadget"), "boom");
        assertThat(unknownName).isInstanceOf(RemoteInvocationException.class);
    }
}

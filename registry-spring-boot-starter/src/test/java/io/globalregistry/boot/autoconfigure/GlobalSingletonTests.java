package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.boot.FencingTokenAware;
import io.globalregistry.boot.GlobalSingleton;
import io.globalregistry.boot.InvalidGlobalSingletonException;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.boot.singleton.GlobalSingletonManager;
import io.globalregistry.boot.singleton.GlobalSingletonManager.FailoverReason;
import io.globalregistry.test.WithBroker;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;

/**
 * {@code @GlobalSingleton} through the starter, on the real broker: every node injects a proxy, exactly one
 * node of the cluster creates the real bean (counted by its {@code @PostConstruct}), closing that node's
 * context hands it to the other, and misdeclared singletons stop the startup naming the bean.
 */
@WithBroker
class GlobalSingletonTests {

    /** What callers inject. */
    public interface Counter {
        long next();

        String node();
    }

    /** The real bean: counts its instances, ticks while alive. */
    public static class CounterImpl implements Counter, FencingTokenAware {
        static final AtomicInteger CREATED = new AtomicInteger();
        static final AtomicInteger DESTROYED = new AtomicInteger();
        static final AtomicInteger TICKS = new AtomicInteger();
        static final AtomicInteger TICKS_AFTER_DESTROY = new AtomicInteger();
        static final AtomicLong LAST_TOKEN = new AtomicLong();
        static volatile long tokenAtInit;

        @Autowired
        GlobalNameRegistry registry;
        private long fencingToken;
        private final AtomicLong value = new AtomicLong();
        private volatile boolean destroyed;

        @Override
        public void setFencingToken(long fencingToken) {
            this.fencingToken = fencingToken;
        }

        @PostConstruct
        void init() {
            tokenAtInit = fencingToken;
            LAST_TOKEN.set(fencingToken);
            CREATED.incrementAndGet();
        }

        @PreDestroy
        void close() {
            destroyed = true;
            DESTROYED.incrementAndGet();
        }

        @Scheduled(fixedRate = 20)
        void tick() {
            (destroyed ? TICKS_AFTER_DESTROY : TICKS).incrementAndGet();
        }

        @Override
        public long next() {
            return value.incrementAndGet();
        }

        @Override
        public String node() {
            return registry.nodeId().name();
        }
    }

    /** Injects the singleton by its interface, as an application would. */
    public static class CounterClient {
        final Counter counter;

        CounterClient(Counter counter) {
            this.counter = counter;
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableScheduling
    static class CounterConfiguration {

        @Bean
        @GlobalSingleton(name = "counter")
        CounterImpl counter() {
            return new CounterImpl();
        }

        @Bean
        CounterClient counterClient(Counter counter) {
            return new CounterClient(counter);
        }
    }

    private final TestCluster cluster = new TestCluster();

    @BeforeEach
    void resetCounters() {
        CounterImpl.CREATED.set(0);
        CounterImpl.DESTROYED.set(0);
        CounterImpl.TICKS.set(0);
        CounterImpl.TICKS_AFTER_DESTROY.set(0);
    }

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    private ApplicationContextRunner node(String name) {
        return cluster.node(name).withUserConfiguration(CounterConfiguration.class);
    }

    @Test
    void proxyWhenInjectedOnEveryNodeShouldReachTheOnlyInstance() {
        node("one").run(first -> node("two").run(second -> {
            assertThat(first).hasNotFailed();
            assertThat(second).hasNotFailed();
            Counter one = first.getBean(CounterClient.class).counter;
            Counter two = second.getBean(CounterClient.class).counter;
            assertThat(Proxy.isProxyClass(one.getClass())).isTrue();
            assertThat(Proxy.isProxyClass(two.getClass())).isTrue();
            assertThat(first.getBean("counter")).isSameAs(one);
            assertThat(first.getBeansOfType(CounterImpl.class)).isEmpty();

            assertThat(one.next()).isEqualTo(1);
            assertThat(two.next()).isEqualTo(2);
            assertThat(one.next()).isEqualTo(3);
            assertThat(two.node()).isEqualTo(one.node()).isIn("one", "two");
            assertThat(CounterImpl.CREATED).hasValue(1);
        }));
    }

    @Test
    void twoNodesWhenStartedShouldCreateExactlyOneRealBean() {
        node("one").run(first -> node("two").run(second -> {
            assertThat(CounterImpl.CREATED).hasValue(1);
            boolean firstOwns = first.getBean(GlobalSingletonManager.class).isActive("counter");
            boolean secondOwns = second.getBean(GlobalSingletonManager.class).isActive("counter");
            assertThat(firstOwns).isNotEqualTo(secondOwns);
            assertThat(first.getBean(Counter.class).node()).isEqualTo(firstOwns ? "one" : "two");
            await().atMost(Duration.ofSeconds(5)).until(() -> CounterImpl.TICKS.get() > 3);
            assertThat(CounterImpl.tokenAtInit).isPositive();
            Thread.sleep(300);
            assertThat(CounterImpl.CREATED).hasValue(1);
        }));
    }

    @Test
    void ownerWhenItsContextClosesShouldHandTheSingletonToTheOther() {
        node("one").run(first -> node("two").run(second -> {
            assertThat(CounterImpl.CREATED).hasValue(1);
            long firstToken = CounterImpl.LAST_TOKEN.get();
            boolean firstOwns = first.getBean(GlobalSingletonManager.class).isActive("counter");
            AssertableApplicationContext owner = firstOwns ? first : second;
            AssertableApplicationContext standby = firstOwns ? second : first;
            String standbyName = firstOwns ? "two" : "one";
            Counter viaStandby = standby.getBean(Counter.class);
            viaStandby.next();

            long closing = System.nanoTime();
            owner.close();
            long closed = System.nanoTime();
            assertThat(CounterImpl.DESTROYED).hasValue(1);
            int ticksAfterDestroy = CounterImpl.TICKS.get();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5))
                    .until(() -> standby.getBean(GlobalSingletonManager.class).isActive("counter"));
            long active = System.nanoTime();
            assertThat(viaStandby.next()).isEqualTo(1); // a new instance, with its own state
            long served = System.nanoTime();
            System.out.printf("@GlobalSingleton hand-over: owner's context closed in %d ms; standby active %d ms "
                            + "after the close began; first call served %d ms after it%n",
                    (closed - closing) / 1_000_000, (active - closing) / 1_000_000, (served - closing) / 1_000_000);

            assertThat(CounterImpl.CREATED).hasValue(2);
            assertThat(viaStandby.node()).isEqualTo(standbyName);
            GlobalSingletonManager standbyManager = standby.getBean(GlobalSingletonManager.class);
            assertThat(standbyManager.failovers(FailoverReason.HANDED_OVER)).isEqualTo(1);
            assertThat(standbyManager.failovers(FailoverReason.OWNER_DOWN)).isZero();
            assertThat(CounterImpl.LAST_TOKEN.get()).isGreaterThan(firstToken);
            assertThat(ticksAfterDestroy).isPositive();
            Thread.sleep(100);
            assertThat(CounterImpl.TICKS_AFTER_DESTROY).as("ticks of the destroyed instance").hasValue(0);
        }));
    }

    @Test
    void ownerWhenItsNodeCrashesShouldBeTakenOverAndCountedAsAFailover() {
        node("one").run(first -> node("two").run(second -> {
            boolean firstOwns = first.getBean(GlobalSingletonManager.class).isActive("counter");
            AssertableApplicationContext owner = firstOwns ? first : second;
            AssertableApplicationContext standby = firstOwns ? second : first;
            GlobalSingletonManager standbyManager = standby.getBean(GlobalSingletonManager.class);
            assertThat(standbyManager.failovers(FailoverReason.OWNER_DOWN)).isZero();

            ((AmqpGlobalRegistry) owner.getBean(GlobalNameRegistry.class)).crash(); // as kill -9 would

            await().atMost(Duration.ofSeconds(5)).until(() -> standbyManager.isActive("counter"));
            assertThat(standby.getBean(Counter.class).next()).isEqualTo(1);
            assertThat(standbyManager.failovers(FailoverReason.OWNER_DOWN)).isEqualTo(1);
            assertThat(standbyManager.failovers(FailoverReason.HANDED_OVER)).isZero();
        }));
    }

    @Test
    void ownerWhenItsNodeRejoinsShouldRunTheSingletonAgain() {
        node("one").run(context -> {
            GlobalSingletonManager manager = context.getBean(GlobalSingletonManager.class);
            AmqpGlobalRegistry registry = (AmqpGlobalRegistry) context.getBean(GlobalNameRegistry.class);
            Counter counter = context.getBean(Counter.class);
            assertThat(manager.isActive("counter")).isTrue();
            assertThat(counter.next()).isEqualTo(1);
            long firstToken = CounterImpl.LAST_TOKEN.get();

            registry.transport().dropConnection(); // the broker connection is lost; the process runs on

            await().atMost(Duration.ofSeconds(10)).until(() -> registry.rejoins() == 1 && manager.isActive("counter"));
            assertThat(CounterImpl.DESTROYED).as("the instance of the incarnation that gave up").hasValue(1);
            assertThat(CounterImpl.CREATED).hasValue(2);
            assertThat(counter.next()).as("the injected proxy reaches the new instance").isEqualTo(1);
            assertThat(counter.node()).isEqualTo("one");
            assertThat(CounterImpl.LAST_TOKEN.get()).isGreaterThan(firstToken);
            assertThat(manager.failovers(FailoverReason.FENCED)).isEqualTo(1);
        });
    }

    @Test
    void ownerWhenItsNodeRejoinsWhileAnotherTookItOverShouldStandBy() {
        node("one").run(first -> node("two").run(second -> {
            boolean firstOwns = first.getBean(GlobalSingletonManager.class).isActive("counter");
            AssertableApplicationContext owner = firstOwns ? first : second;
            AssertableApplicationContext standby = firstOwns ? second : first;
            String standbyName = firstOwns ? "two" : "one";
            AmqpGlobalRegistry ownerRegistry = (AmqpGlobalRegistry) owner.getBean(GlobalNameRegistry.class);
            GlobalSingletonManager ownerManager = owner.getBean(GlobalSingletonManager.class);
            GlobalSingletonManager standbyManager = standby.getBean(GlobalSingletonManager.class);

            ownerRegistry.transport().dropConnection();

            await().atMost(Duration.ofSeconds(10)).until(() -> standbyManager.isActive("counter")
                    && ownerRegistry.rejoins() == 1 && ownerRegistry.members().size() == 2);
            assertThat(standbyManager.failovers(FailoverReason.OWNER_DOWN)).isEqualTo(1);
            Thread.sleep(500); // the rejoined node's claim is decided: the standby keeps the singleton
            assertThat(ownerManager.isActive("counter")).isFalse();
            assertThat(CounterImpl.CREATED.get() - CounterImpl.DESTROYED.get()).as("instances alive").isEqualTo(1);
            assertThat(owner.getBean(Counter.class).node()).isEqualTo(standbyName);

            standby.close(); // hands it over to the rejoined node
            await().atMost(Duration.ofSeconds(5)).until(() -> ownerManager.isActive("counter"));
            assertThat(owner.getBean(Counter.class).next()).isEqualTo(1);
        }));
    }

    /** A singleton declared on its class, as a component. */
    public interface Greeter {
        String greet(String who);
    }

    @GlobalSingleton(name = "greeter")
    public static final class GreeterImpl implements Greeter { // final: fine, the interface is proxied
        @Override
        public String greet(String who) {
            return "hello " + who;
        }
    }

    @Test
    void singletonWhenAnnotatedOnItsComponentClassShouldBeInjectableByItsInterface() {
        cluster.node("one").withUserConfiguration(GreeterImpl.class).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(Greeter.class).doesNotHaveBean(GreeterImpl.class);
            assertThat(context.getBean(Greeter.class).greet("you")).isEqualTo("hello you");
            assertThat(context.getBean(GlobalNameRegistry.class).whereis("greeter")).get()
                    .satisfies(registration -> assertThat(registration.target()).isInstanceOf(GreeterImpl.class));
        });
    }

    @Test
    void singletonWhenTheRegistryIsDisabledShouldBeAnOrdinaryLocalBean() {
        cluster.node("one").withPropertyValues("global-registry.enabled=false")
                .withUserConfiguration(GreeterImpl.class).run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(GreeterImpl.class);
                    assertThat(context.getBean(Greeter.class)).isInstanceOf(GreeterImpl.class);
                });
    }

    // misdeclared singletons

    /** A class with no interface. */
    public static class Lonely {
    }

    /** A class with two service interfaces. */
    public static class TwoFaced implements Counter, Runnable2 {
        @Override
        public long next() {
            return 0;
        }

        @Override
        public String node() {
            return "";
        }

        @Override
        public void go() {
        }
    }

    /** A second service interface. */
    public interface Runnable2 {
        void go();
    }

    @Configuration(proxyBeanMethods = false)
    static class NoInterfaceConfiguration {
        @Bean
        @GlobalSingleton
        Lonely lonely() {
            return new Lonely();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class SameNameConfiguration {
        @Bean
        @GlobalSingleton(name = "counter")
        CounterImpl counterA() {
            return new CounterImpl();
        }

        @Bean
        @GlobalSingleton(name = "counter")
        CounterImpl counterB() {
            return new CounterImpl();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class SeveralInterfacesConfiguration {
        @Bean
        @GlobalSingleton
        TwoFaced twoFaced() {
            return new TwoFaced();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ChosenInterfaceConfiguration {
        @Bean
        @GlobalSingleton(type = Runnable2.class)
        TwoFaced twoFaced() {
            return new TwoFaced();
        }
    }

    @Test
    void singletonWhenItsClassHasNoInterfaceShouldFailTheStartupNamingTheBean() {
        cluster.node("one").withUserConfiguration(NoInterfaceConfiguration.class).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).isInstanceOf(InvalidGlobalSingletonException.class)
                    .hasMessageContaining("Invalid @GlobalSingleton bean 'lonely'")
                    .hasMessageContaining(Lonely.class.getName() + " implements no interface");
        });
    }

    @Test
    void singletonsWhenTheyShareANameShouldFailTheStartupNamingBoth() {
        cluster.node("one").withUserConfiguration(SameNameConfiguration.class).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).isInstanceOf(InvalidGlobalSingletonException.class)
                    .hasMessageContaining("'counterB'").hasMessageContaining("'counterA'")
                    .hasMessageContaining("its name 'counter'");
        });
    }

    @Test
    void singletonWhenItsClassHasSeveralInterfacesShouldFailUnlessTheTypeIsChosen() {
        cluster.node("one").withUserConfiguration(SeveralInterfacesConfiguration.class).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).isInstanceOf(InvalidGlobalSingletonException.class)
                    .hasMessageContaining("'twoFaced'").hasMessageContaining("@GlobalSingleton(type = ...)");
        });
        cluster.node("one").withUserConfiguration(ChosenInterfaceConfiguration.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(Runnable2.class).doesNotHaveBean(Counter.class);
        });
    }
}

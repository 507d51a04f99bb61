package io.globalregistry.boot.singleton;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.util.Assert;

/**
 * The context's {@code @GlobalSingleton} beans, found by {@link GlobalSingletonBeanFactoryPostProcessor}, and
 * the fencing tokens of the instances being created (read by {@link FencingTokenPostProcessor}).
 *
 * <p>Its bean definition holds the singletons as three arrays of strings (the interfaces by class name, which the
 * container converts), which Spring AOT writes as code: with AOT the post-processor does not run again, the
 * generated definition rebuilds this.
 */
public final class GlobalSingletons {

    private final List<GlobalSingletonDefinition> definitions;
    private final Map<String, Long> tokensByTargetBean = new ConcurrentHashMap<>();

    /**
     * The singletons {@code i}: declared as bean {@code beanNames[i]}, registered in the cluster as
     * {@code names[i]}, proxied as interface {@code types[i]}; in that order.
     */
    public GlobalSingletons(String[] beanNames, String[] names, Class<?>[] types) {
        Assert.isTrue(beanNames.length == names.length && names.length == types.length,
                "one name and one type per bean name");
        List<GlobalSingletonDefinition> definitions = new ArrayList<>(beanNames.length);
        for (int i = 0; i < beanNames.length; i++) {
            definitions.add(new GlobalSingletonDefinition(beanNames[i], names[i], types[i]));
        }
        this.definitions = List.copyOf(definitions);
    }

    public List<GlobalSingletonDefinition> definitions() {
        return definitions;
    }

    void fencingToken(String targetBeanName, long token) {
        tokensByTargetBean.put(targetBeanName, token);
    }

    Long fencingToken(String targetBeanName) {
        return tokensByTargetBean.get(targetBeanName);
    }
}

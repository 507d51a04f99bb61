package io.globalregistry.boot.singleton;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The context's {@code @GlobalSingleton} beans, found by {@link GlobalSingletonBeanFactoryPostProcessor}, and
 * the fencing tokens of the instances being created (read by {@link FencingTokenPostProcessor}).
 */
public final class GlobalSingletons {

    private final List<GlobalSingletonDefinition> definitions;
    private final Map<String, Long> tokensByTargetBean = new ConcurrentHashMap<>();

    GlobalSingletons(List<GlobalSingletonDefinition> definitions) {
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

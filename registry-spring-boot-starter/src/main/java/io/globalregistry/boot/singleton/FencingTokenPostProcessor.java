package io.globalregistry.boot.singleton;

import io.globalregistry.boot.FencingTokenAware;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.PriorityOrdered;

/** Hands a {@code @GlobalSingleton} instance its fencing token before any init callback ({@code @PostConstruct}). */
final class FencingTokenPostProcessor implements BeanPostProcessor, PriorityOrdered {

    private final GlobalSingletons singletons;

    FencingTokenPostProcessor(GlobalSingletons singletons) {
        this.singletons = singletons;
    }

    @Override
    public Object postProcessBeforeInitialization(Object bean, String beanName) {
        if (bean instanceof FencingTokenAware) {
            Long token = singletons.fencingToken(beanName);
            if (token != null) {
                ((FencingTokenAware) bean).setFencingToken(token);
            }
        }
        return bean;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}

package io.globalregistry.boot.singleton;

import java.util.function.Predicate;
import org.springframework.aot.generate.GenerationContext;
import org.springframework.beans.factory.aot.BeanRegistrationAotContribution;
import org.springframework.beans.factory.aot.BeanRegistrationAotProcessor;
import org.springframework.beans.factory.aot.BeanRegistrationCode;
import org.springframework.beans.factory.aot.BeanRegistrationCodeFragments;
import org.springframework.beans.factory.aot.BeanRegistrationCodeFragmentsDecorator;
import org.springframework.beans.factory.aot.BeanRegistrationExcludeFilter;
import org.springframework.beans.factory.support.RegisteredBean;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.javapoet.CodeBlock;

/**
 * Spring AOT for {@code @GlobalSingleton} beans (registered in {@code META-INF/spring/aot.factories}).
 *
 * <ul>
 *   <li>Leaves {@link GlobalSingletonBeanFactoryPostProcessor} out of the generated context: its work is in the
 *       definitions it registered, which the generated code registers as they are; run again, it would find no
 *       singleton and register an empty {@link GlobalSingletons} over the generated one.</li>
 *   <li>Writes the real bean's definition ({@link GlobalSingletonDefinition#targetBeanName()}) abstract, as the
 *       context keeps it: Spring AOT does not write that flag, and a concrete real bean would be seen by lookups
 *       by type ({@code getBeansOfType} would create instances on every node, outside the owner's factory).</li>
 *   <li>Contributes the runtime hints of each singleton ({@link GlobalSingletonRuntimeHints}): the JDK proxy of
 *       its interface, reflection on the interface and the real bean's class, binding of the types its calls
 *       carry as JSON.</li>
 * </ul>
 */
public final class GlobalSingletonAotProcessor implements BeanRegistrationAotProcessor, BeanRegistrationExcludeFilter {

    @Override
    public boolean isExcludedFromAotProcessing(RegisteredBean registeredBean) {
        return GlobalSingletonBeanFactoryPostProcessor.class.isAssignableFrom(registeredBean.getBeanClass());
    }

    @Override
    public BeanRegistrationAotContribution processAheadOfTime(RegisteredBean registeredBean) {
        Object proxied = registeredBean.getMergedBeanDefinition()
                .getAttribute(GlobalSingletonDefinition.PROXIED_INTERFACE_ATTRIBUTE);
        if (!(proxied instanceof Class) || registeredBean.isInnerBean()) {
            return null;
        }
        Class<?> type = (Class<?>) proxied;
        Class<?> beanClass = registeredBean.getBeanClass();
        return new BeanRegistrationAotContribution() {
            @Override
            public BeanRegistrationCodeFragments customizeBeanRegistrationCodeFragments(
                    GenerationContext generationContext, BeanRegistrationCodeFragments codeFragments) {
                return new AbstractDefinition(codeFragments);
            }

            @Override
            public void applyTo(GenerationContext generationContext, BeanRegistrationCode beanRegistrationCode) {
                GlobalSingletonRuntimeHints.register(generationContext.getRuntimeHints(), type, beanClass);
            }
        };
    }

    /** Appends {@code beanDefinition.setAbstract(true)} to the generated properties of the definition. */
    private static final class AbstractDefinition extends BeanRegistrationCodeFragmentsDecorator {

        AbstractDefinition(BeanRegistrationCodeFragments delegate) {
            super(delegate);
        }

        @Override
        public CodeBlock generateSetBeanDefinitionPropertiesCode(GenerationContext generationContext,
                BeanRegistrationCode beanRegistrationCode, RootBeanDefinition beanDefinition,
                Predicate<String> attributeFilter) {
            return CodeBlock.builder()
                    .add(super.generateSetBeanDefinitionPropertiesCode(generationContext, beanRegistrationCode,
                            beanDefinition, attributeFilter))
                    .addStatement("$L.setAbstract(true)", BEAN_DEFINITION_VARIABLE)
                    .build();
        }
    }
}

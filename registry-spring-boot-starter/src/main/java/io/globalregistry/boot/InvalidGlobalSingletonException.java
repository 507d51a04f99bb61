package io.globalregistry.boot;

/** A {@link GlobalSingleton} bean is declared in a way that cannot work; the message names the bean and the fix. */
public class InvalidGlobalSingletonException extends IllegalStateException {

    private final String beanName;
    private final String problem;
    private final String fix;

    public InvalidGlobalSingletonException(String beanName, String problem, String fix) {
        super("Invalid @GlobalSingleton bean '" + beanName + "': " + problem + ". Fix: " + fix);
        this.beanName = beanName;
        this.problem = problem;
        this.fix = fix;
    }

    /** The bean at fault. */
    public String getBeanName() {
        return beanName;
    }

    /** What is wrong with it. */
    public String getProblem() {
        return problem;
    }

    /** How to put it right. */
    public String getFix() {
        return fix;
    }
}

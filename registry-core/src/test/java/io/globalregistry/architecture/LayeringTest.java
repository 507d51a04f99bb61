package io.globalregistry.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The protocol is plain Java: only the transport package touches Spring or AMQP. */
@AnalyzeClasses(packages = "io.globalregistry", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {

    @ArchTest
    static final ArchRule protocolPackagesImportNeitherSpringNorAmqp = noClasses()
            .that().resideOutsideOfPackages("io.globalregistry.amqp..", "io.globalregistry.test..")
            .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "com.rabbitmq..")
            .because("the protocol must run unchanged over the simulated network (STYLE: architecture you can see)");

    @ArchTest
    static final ArchRule nothingUsesJavaSerialization = noClasses()
            .should().dependOnClassesThat().haveFullyQualifiedName("java.io.ObjectInputStream")
            .orShould().dependOnClassesThat().haveFullyQualifiedName("java.io.ObjectOutputStream")
            .because("no Java serialisation anywhere (DESIGN section 3)");
}

package org.promptdas.jobs;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.engine.GraphOps;

/**
 * The project's layering, checked on the compiled classes of all three modules: core <- model <-
 * jobs, and the ND4J M2.1 workarounds behind the engine package's one entry point.
 */
class LayeringTest {
  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("org.promptdas");
  }

  @Test
  void coreDependsOnNeitherTheModelNorTheJobs() {
    noClasses().that().resideInAPackage("org.promptdas.core..")
        .should().dependOnClassesThat().resideInAnyPackage("org.promptdas.model..", "org.promptdas.jobs..")
        .check(classes);
  }

  @Test
  void theModelDoesNotDependOnTheJobs() {
    noClasses().that().resideInAPackage("org.promptdas.model..")
        .should().dependOnClassesThat().resideInAPackage("org.promptdas.jobs..")
        .check(classes);
  }

  @Test
  void outsideTheEngineOnlyItsEntryPointAndOpsAreUsed() {
    classes().that().resideInAPackage("org.promptdas.model.engine")
        .and(not(belongToAnyOf(Engine.class, GraphOps.class)))
        .should().onlyBeAccessed().byClassesThat().resideInAPackage("org.promptdas.model.engine")
        .check(classes);
  }

  @Test
  void onlyTheEngineManagesSameDiffSessionsAndNativeOps() {
    noClasses().that().resideOutsideOfPackage("org.promptdas.model.engine")
        .should().dependOnClassesThat().haveFullyQualifiedName(
            "org.nd4j.autodiff.samediff.internal.InferenceSession")
        .orShould().dependOnClassesThat().haveFullyQualifiedName(
            "org.nd4j.autodiff.samediff.internal.SessionMemMgr")
        .orShould().dependOnClassesThat().resideInAPackage("org.nd4j.nativeblas..")
        .check(classes);
  }

  @Test
  void theEngineDoesNotKnowTheNetwork() {
    noClasses().that().resideInAPackage("org.promptdas.model.engine")
        .should().dependOnClassesThat().resideInAnyPackage("org.promptdas.model.network..",
            "org.promptdas.model.train..", "org.promptdas.model.infer..")
        .check(classes);
  }
}

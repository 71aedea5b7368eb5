/**
 * How graphs run on ND4J 1.0.0-M2.1: backward-graph rewrites, session memory and the native-kernel
 * policy, each class one workaround that says which gap or slow kernel it covers. Only
 * {@link org.promptdas.model.engine.Engine} and {@link org.promptdas.model.engine.GraphOps} are
 * public ({@code LayeringTest} checks that nothing else is used outside), so a later ND4J that
 * fixes a bug removes a class here and changes nothing outside.
 */
package org.promptdas.model.engine;

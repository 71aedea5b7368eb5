/**
 * The Prompt-DAS network on ND4J/SameDiff: graph builders ({@code network}), losses, the
 * mean-teacher training step ({@code train}), sliding-window inference ({@code infer}), model and
 * weight files ({@code io}), and the engine that runs the graphs ({@code engine}). No Spark: the
 * single-process trainer and the tests run without it.
 */
package org.promptdas.model;

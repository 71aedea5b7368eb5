/**
 * The Prompt-DAS network on ND4J/SameDiff: graph builders, losses, the mean-teacher training step,
 * batched crop inference and checkpoints. No Spark: the single-process trainer and the tests run
 * without it. (Built in the model issues; this module holds the backend dependencies for now.)
 */
package org.promptdas.model;

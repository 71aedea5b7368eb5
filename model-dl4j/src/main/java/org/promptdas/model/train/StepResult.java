package org.promptdas.model.train;

/** What one training step did: its number (1-based), learning rate, losses and wall time. */
public record StepResult(long step, double learningRate, double loss, double segmentation,
    double detection, double contrastive, double seconds) {}

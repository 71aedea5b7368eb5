package org.promptdas.core;

/**
 * The project's own unchecked exception: every error a user can cause (a bad file, a bad setting, a
 * missing partner) surfaces as one of these, with a message that names the offending file or key
 * and the reason, never a stack of library internals.
 *
 * <p>The nested subtypes let callers (the command line, Spark drivers) tell bad input from bad
 * configuration without parsing messages.
 */
public class PromptDasException extends RuntimeException {

  public PromptDasException(String message) {
    super(message);
  }

  public PromptDasException(String message, Throwable cause) {
    super(message, cause);
  }

  /** An input file or dataset that cannot be used: missing, corrupt, truncated, empty, unsupported. */
  public static class BadInput extends PromptDasException {
    public BadInput(String message) {
      super(message);
    }

    public BadInput(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** A configuration value that is missing, of the wrong type, or out of its valid range. */
  public static class BadConfig extends PromptDasException {
    public BadConfig(String message) {
      super(message);
    }
  }
}

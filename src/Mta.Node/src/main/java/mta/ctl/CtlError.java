package mta.ctl;

/** Why mtactl stops, with the exit status that scripts can rely on. */
final class CtlError extends RuntimeException {
  /** The node answered with an error (no such message, refused, failed). */
  static final int NODE = 1;
  /** The command line is wrong (or the --config file). */
  static final int USAGE = 2;
  /** No answer: nothing listens at the endpoint, or the connection broke. */
  static final int UNREACHABLE = 3;

  private final int exitCode;

  private CtlError(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }

  static CtlError node(String message) {
    return new CtlError(NODE, message);
  }

  static CtlError usage(String message) {
    return new CtlError(USAGE, message);
  }

  static CtlError unreachable(String message) {
    return new CtlError(UNREACHABLE, message);
  }
}

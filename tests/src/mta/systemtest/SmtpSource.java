package mta.systemtest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Postfix's /usr/sbin/smtp-source: many messages over parallel sessions (-s sessions,
 * -m messages, -l payload bytes, -t recipient, -f sender, -S subject, -d keep the connection).
 * Note: smtp-source itself does not pipeline commands (man smtp-source, BUGS).
 */
public final class SmtpSource {
  private SmtpSource() {}

  /** Runs smtp-source against 127.0.0.1:port with {@code options}; exit code and output. */
  public static Exec.Result run(int port, Duration timeout, String... options) {
    List<String> cmd = new ArrayList<>(List.of("/usr/sbin/smtp-source"));
    cmd.addAll(Arrays.asList(options));
    cmd.add("127.0.0.1:" + port);
    return Exec.run(cmd, timeout);
  }
}

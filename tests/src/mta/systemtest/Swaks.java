package mta.systemtest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * swaks, the SMTP test client: one transaction, the whole transcript captured. Exit codes
 * (man swaks): 0 ok, 23 MAIL rejected, 24 no RCPT accepted, 25 DATA rejected, 26 message
 * rejected after the final dot.
 */
public final class Swaks {
  private final int port;
  private final List<String> args = new ArrayList<>();
  private String from = "sender@client.test";
  private Duration timeout = Duration.ofSeconds(60);

  private Swaks(int port) {
    this.port = port;
  }

  public static Swaks to(int port, String... recipients) {
    Swaks s = new Swaks(port);
    s.args.add("--to");
    s.args.add(String.join(",", recipients));
    return s;
  }

  public Swaks from(String sender) {
    this.from = sender;
    return this;
  }

  public Swaks header(String name, String value) {
    args.add("--header");
    args.add(name + ": " + value);
    return this;
  }

  public Swaks subject(String subject) {
    return header("Subject", subject);
  }

  public Swaks messageId(String id) {
    return header("Message-Id", "<" + id + ">");
  }

  /** The body text; "@/path" reads it from a file (swaks' own convention). */
  public Swaks body(String body) {
    args.add("--body");
    args.add(body);
    return this;
  }

  public Swaks pipeline() {
    args.add("--pipeline");
    return this;
  }

  /** Any other swaks option(s), as they are. */
  public Swaks option(String... more) {
    args.addAll(List.of(more));
    return this;
  }

  public Swaks timeout(Duration d) {
    this.timeout = d;
    return this;
  }

  public Result run() {
    List<String> cmd = new ArrayList<>(List.of("swaks", "--server", "127.0.0.1:" + port,
        "--helo", "client.test", "--from", from, "--timeout", "60s"));
    cmd.addAll(args);
    return new Result(Exec.run(cmd, timeout));
  }

  /** The transcript; server replies are the lines starting with "<-" or "<**" (errors). */
  public record Result(Exec.Result exec) {
    private static final Pattern QUEUED = Pattern.compile("^<-\\s+250 .*queued as (\\S+)", Pattern.MULTILINE);

    public int exitCode() {
      return exec.exitCode();
    }

    public String transcript() {
      return exec.output();
    }

    public boolean accepted() {
      return exec.ok() && queueId() != null;
    }

    /** The queue id from "250 2.0.0 Ok: queued as ID", or null. */
    public String queueId() {
      Matcher m = QUEUED.matcher(exec.output());
      return m.find() ? m.group(1) : null;
    }

    /** The server's replies, with the leading arrow removed. */
    public List<String> replies() {
      return exec.output().lines()
          .filter(l -> l.startsWith("<-") || l.startsWith("<**"))
          .map(l -> l.replaceFirst("^<(-|\\*\\*)\\s+", ""))
          .toList();
    }

    public boolean hasReply(String regex) {
      Pattern p = Pattern.compile(regex);
      return replies().stream().anyMatch(r -> p.matcher(r).find());
    }

    @Override
    public String toString() {
      return exec.toString();
    }
  }
}

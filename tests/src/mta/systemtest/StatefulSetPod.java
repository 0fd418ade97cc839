package mta.systemtest;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One pod of deploy/k8s/statefulset.yaml on this machine: `bin/mta ARGS` with the pod's
 * environment (what Kubernetes injects: POD_NAME, POD_IP, the Secrets' values, the ports) and
 * the ConfigMap's mta.conf as it is. Its output goes to {@code DIR/node.log}.
 */
final class StatefulSetPod implements AutoCloseable {
  final String name;
  final Path dir;
  final Path config;
  final Map<String, String> env;
  final int smtpPort;
  final int managementPort;
  final int remotingPort;
  private Process process;

  StatefulSetPod(String name, Path dir, Path config, Map<String, String> common) {
    this.name = name;
    this.dir = dir;
    this.config = config;
    this.smtpPort = Ports.free();
    this.managementPort = Ports.free();
    this.remotingPort = Ports.free();
    this.env = new LinkedHashMap<>(common);
    env.put("POD_NAME", name);
    env.put("POD_IP", "127.0.0.1");
    env.put("MTA_SMTP_PORT", Integer.toString(smtpPort));
    env.put("MTA_SUBMISSION_PORT", Integer.toString(Ports.free()));
    env.put("MTA_SUBMISSIONS_PORT", Integer.toString(Ports.free()));
    env.put("MTA_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("MTA_REMOTING_PORT", Integer.toString(remotingPort));
  }

  Path log() {
    return dir.resolve("node.log");
  }

  private ProcessBuilder bin(List<String> args) {
    try {
      Files.createDirectories(dir);
      Files.writeString(log(), "=== harness: " + name + " " + args + " at " + Instant.now() + " env " + env + "\n",
          StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    var cmd = new java.util.ArrayList<String>();
    cmd.add(NodeProcess.root().resolve("bin/mta").toString());
    cmd.addAll(args);
    var pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().putAll(env);
    pb.environment().put("MTA_NO_BUILD", "1");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("MTA_JAVA_OPTS", System.getenv().getOrDefault("MTA_TEST_JAVA_OPTS", "-Xms64m -Xmx384m"));
    return pb;
  }

  /** The initContainer: `bin/mta schema --config mta.conf`; its exit status. */
  int schema() {
    try {
      var p = Exec.track(bin(List.of("schema", "--config", config.toString())).start());
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        Exec.killTree(p);
        throw new AssertionError(name + ": bin/mta schema did not finish in 90s\n" + tail());
      }
      Exec.untrack(p);
      return p.exitValue();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The container: `bin/mta node --config mta.conf`. */
  StatefulSetPod start() {
    try {
      process = Exec.track(bin(List.of("node", "--config", config.toString())).start());
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** SIGTERM as the kubelet sends it, then kill -9 after {@code grace}; the exit status. */
  int terminate(Duration grace) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(20, TimeUnit.SECONDS);
      Exec.untrack(process);
      throw new AssertionError(name + " did not stop within " + grace + " of SIGTERM\n" + tail());
    }
    Exec.untrack(process);
    return process.exitValue();
  }

  String tail() {
    try {
      var lines = Files.readAllLines(log(), StandardCharsets.ISO_8859_1);
      return "---- " + log() + "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) Exec.killTree(process);
    }
    if (process != null) Exec.untrack(process);
  }
}

package mta.maillog;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The mail log on standard output, as Postfix's postlogd writes {@code maillog_file =
 * /dev/stdout} in a container: one line per event, in the order each thread logged them.
 *
 * <p>Callers never write: a line is encoded by the thread that logs it and queued, and a writer
 * thread takes what queued every {@link #setFlushMillis flush interval} (50 ms) and writes it
 * with one system call. Logback's AsyncAppender woke its worker for every line, so a node
 * parked and woke a thread two or three times per message (bench/RESULTS.md); here the writer
 * wakes twenty times a second, or early when half the queue is full. No line is dropped: a
 * caller that finds the queue full waits for the writer, as Postfix's processes wait for a
 * slow syslog. Once the JVM begins to shut down, each line is written by its caller at once,
 * after whatever still queued, so the last lines of a stopping node are not lost at exit.
 */
public final class MaillogAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
  private final BufferedOutputStream out;
  /** Held while lines go out, so a batch and a line written by its caller do not interleave. */
  private final ReentrantLock writing = new ReentrantLock();
  private final List<byte[]> batch = new ArrayList<>();
  private Encoder<ILoggingEvent> encoder;
  private int queueSize = 8192;
  private long flushMillis = 50;
  private BlockingQueue<byte[]> lines;
  private Thread writer;
  private Thread shutdownHook;
  /** Set when the JVM shuts down: from then on each caller writes its own line. */
  private volatile boolean direct;

  public MaillogAppender() {
    this(new FileOutputStream(FileDescriptor.out));
  }

  MaillogAppender(OutputStream out) {
    this.out = new BufferedOutputStream(out, 1 << 16);
  }

  public void setEncoder(Encoder<ILoggingEvent> encoder) {
    this.encoder = encoder;
  }

  /** Lines that may wait for the writer; a caller that finds them all taken waits. */
  public void setQueueSize(int queueSize) {
    this.queueSize = queueSize;
  }

  /** How long a line may wait before the writer takes it. */
  public void setFlushMillis(long flushMillis) {
    this.flushMillis = flushMillis;
  }

  @Override
  public void start() {
    if (encoder == null) {
      addError("no encoder for the mail log appender \"" + name + "\"");
      return;
    }
    if (queueSize < 2 || flushMillis < 1) {
      addError("mail log appender \"" + name + "\": queueSize must be at least 2 and flushMillis at least 1");
      return;
    }
    lines = new ArrayBlockingQueue<>(queueSize);
    super.start();
    writeQueuedAnd(encoder.headerBytes());
    writer = Thread.ofPlatform().daemon().name("maillog-writer").start(this::writeEveryInterval);
    shutdownHook = new Thread(this::writeDirectly, "maillog-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  @Override
  protected void append(ILoggingEvent event) {
    byte[] line = encoder.encode(event);
    if (direct) {
      writeQueuedAnd(line);
      return;
    }
    boolean interrupted = false;
    while (true) {
      try {
        lines.put(line);
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the line still goes out; the caller's interrupt is kept for it
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (lines.size() >= queueSize / 2) {
      LockSupport.unpark(writer);
    }
  }

  @Override
  public void stop() {
    if (!isStarted()) {
      return;
    }
    super.stop();
    LockSupport.unpark(writer);
    try {
      writer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    writeQueuedAnd(encoder.footerBytes());
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // stopped by the shutdown itself: the hook is running or has run
    }
  }

  private void writeEveryInterval() {
    long nanos = TimeUnit.MILLISECONDS.toNanos(flushMillis);
    while (isStarted()) {
      LockSupport.parkNanos(this, nanos);
      writeQueuedAnd(null);
    }
  }

  /** The JVM shuts down: what queued goes out now, and each later line as it comes. */
  void writeDirectly() {
    direct = true;
    writeQueuedAnd(null); // a caller that writes first takes what queued before its own line
  }

  /** Writes what queued, then {@code last} (if any), in one system call where they fit. */
  private void writeQueuedAnd(byte[] last) {
    writing.lock();
    try {
      lines.drainTo(batch);
      if (last != null) {
        batch.add(last);
      }
      if (batch.isEmpty()) {
        return;
      }
      for (byte[] line : batch) {
        out.write(line);
      }
      out.flush();
    } catch (IOException e) {
      addError("cannot write the mail log", e);
    } finally {
      batch.clear();
      writing.unlock();
    }
  }
}

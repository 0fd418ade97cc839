package mta;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Captures what one role logs during a test ({@code smtpd}, {@code cleanup}, {@code dict}),
 * so a test can check the Postfix-style lines: {@code @RegisterExtension LogCapture log = new LogCapture("smtpd")}.
 */
public final class LogCapture implements BeforeEachCallback, AfterEachCallback {
  private final String logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  public LogCapture(String logger) {
    this.logger = logger;
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    appender.list.clear();
    appender.start();
    ((Logger) LoggerFactory.getLogger(logger)).addAppender(appender);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    ((Logger) LoggerFactory.getLogger(logger)).detachAppender(appender);
  }

  /** The lines logged so far, formatted. */
  public List<String> lines() {
    return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }
}

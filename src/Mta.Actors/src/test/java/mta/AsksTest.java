package mta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class AsksTest {
  record Ask(ActorRef<String> replyTo) {}

  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** An actor that answers with the name of the thread it runs on. */
  private static ActorRef<Ask> answering() {
    return kit.spawn(Behaviors.receiveMessage(ask -> {
      ask.replyTo().tell(Thread.currentThread().getName());
      return Behaviors.same();
    }));
  }

  private static CompletionStage<String> ask(ActorRef<Ask> to, Duration timeout) {
    return AskPattern.ask(to, Ask::new, timeout, kit.system().scheduler());
  }

  private static String continuedOn(CompletionStage<?> answer) throws Exception {
    return answer.handle((value, failure) -> Thread.currentThread().getName()).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void pekkosJavaAskContinuesOnTheCommonPool() throws Exception {
    // Why Asks exists: should this fail after an upgrade, the hop is gone and so may Asks be.
    assertTrue(continuedOn(ask(answering(), Duration.ofSeconds(3))).contains("commonPool"));
  }

  @Test
  void theAnswerGoesOnOnTheThreadThatGaveIt() throws Exception {
    var answer = Asks.onAnsweringThread(ask(answering(), Duration.ofSeconds(3)));
    var answeredOn = answer.toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertTrue(answeredOn.contains("default-dispatcher"), answeredOn);
    var handledOn = continuedOn(Asks.onAnsweringThread(ask(answering(), Duration.ofSeconds(3))));
    assertTrue(handledOn.contains("default-dispatcher"), handledOn);
  }

  @Test
  void aTimeoutIsPassedOnAsAFailure() throws Exception {
    ActorRef<Ask> silent = kit.spawn(Behaviors.ignore());
    var answer = Asks.onAnsweringThread(ask(silent, Duration.ofMillis(100))).toCompletableFuture();
    var failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> answer.get(5, TimeUnit.SECONDS));
    assertInstanceOf(TimeoutException.class, failure.getCause());
    assertEquals(true, answer.isCompletedExceptionally());
  }
}

package mta;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class AsksTest {
  sealed interface Command {}
  record Ask(ActorRef<String> replyTo) implements Command {}
  record Answer() implements Command {}

  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** An actor that answers at once with the name of the thread it runs on. */
  private static ActorRef<Command> answering() {
    return kit.spawn(Behaviors.receiveMessage(command -> {
      if (command instanceof Ask ask) ask.replyTo().tell(Thread.currentThread().getName());
      return Behaviors.same();
    }));
  }

  /**
   * One that holds its asks (and says so to {@code held}) until told to answer: a continuation
   * attached meanwhile must wait for the answer, so the test knows which thread gives it.
   */
  private static ActorRef<Command> answeringWhenTold(TestProbe<String> held) {
    return kit.spawn(Behaviors.setup(ctx -> {
      var waiting = new ArrayList<ActorRef<String>>();
      return Behaviors.receiveMessage(command -> {
        switch (command) {
          case Ask ask -> {
            waiting.add(ask.replyTo());
            held.ref().tell("held");
          }
          case Answer answer -> {
            waiting.forEach(replyTo -> replyTo.tell(Thread.currentThread().getName()));
            waiting.clear();
          }
        }
        return Behaviors.same();
      });
    }));
  }

  private static CompletionStage<String> ask(ActorRef<Command> to, Duration timeout) {
    return AskPattern.ask(to, Ask::new, timeout, kit.system().scheduler());
  }

  private static CompletableFuture<String> threadOf(CompletionStage<?> answer) {
    return answer.handle((value, failure) -> Thread.currentThread().getName()).toCompletableFuture();
  }

  @Test
  void pekkosJavaAskContinuesOnTheCommonPool() throws Exception {
    // Why Asks exists: should this fail after an upgrade, the hop is gone and so may Asks be.
    assertTrue(threadOf(ask(answering(), Duration.ofSeconds(3))).get(5, TimeUnit.SECONDS).contains("commonPool"));
  }

  @Test
  void theAnswerIsHandledOnTheThreadThatGaveIt() throws Exception {
    var held = kit.<String>createTestProbe();
    var answerer = answeringWhenTold(held);
    var handledOn = threadOf(Asks.onAnsweringThread(ask(answerer, Duration.ofSeconds(3))));
    held.expectMessage("held");
    answerer.tell(new Answer());
    var thread = handledOn.get(5, TimeUnit.SECONDS);
    assertTrue(thread.contains("default-dispatcher"), thread);
  }

  @Test
  void aTimeoutIsPassedOnAsAFailure() {
    ActorRef<Command> silent = kit.spawn(Behaviors.<Command>ignore());
    var answer = Asks.onAnsweringThread(ask(silent, Duration.ofMillis(100))).toCompletableFuture();
    var failure = assertThrows(ExecutionException.class, () -> answer.get(5, TimeUnit.SECONDS));
    assertInstanceOf(TimeoutException.class, failure.getCause());
  }
}

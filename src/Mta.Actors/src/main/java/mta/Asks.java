package mta;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The answer to an ask, continued on the thread that gave it.
 *
 * <p>Pekko's Java asks ({@code EntityRef.ask}, {@code AskPattern.ask}, and
 * {@code ActorContext.ask}, which is built on them) hand back Scala's adapter of a Scala
 * Future, and that adapter runs every plain continuation ({@code handle}, {@code whenComplete},
 * and so {@code pipeToSelf}'s) as an async one on the common ForkJoinPool. Each answer then
 * wakes one more thread: the asking actor hears of it only after a pool thread has been
 * woken to pass it on. Here the answer goes on where it arrives (the answering actor's
 * thread, or the scheduler's for a timeout); what follows is a mailbox send, nothing that
 * blocks. Per mail, smtpd's accept and the delivery agent's two asks to the message each
 * made such a hop (bench/RESULTS.md, 2026-12-07, "the asks' hop").
 */
public final class Asks {
  private Asks() {}

  public static <T> CompletionStage<T> onAnsweringThread(CompletionStage<T> answer) {
    var passedOn = new CompletableFuture<T>();
    // An explicit executor is the one continuation Scala's adapter does not send to the pool.
    answer.whenCompleteAsync((value, failure) -> {
      if (failure != null) passedOn.completeExceptionally(failure);
      else passedOn.complete(value);
    }, Runnable::run);
    return passedOn;
  }
}

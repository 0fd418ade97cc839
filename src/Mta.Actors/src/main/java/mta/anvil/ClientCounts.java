package mta.anvil;

/**
 * What anvil knows about one client address: how many connections it holds open now, and how
 * many connections, MAIL, RCPT and AUTH commands it has made in the current rate interval.
 * Plain code, owned by one {@link Anvil} entity.
 *
 * <p>Rates count as Postfix's anvil does: an interval of {@code anvil_rate_time_unit} starts
 * with the first event after the previous one has run out, and every counter restarts from zero
 * with it. A client at the limit therefore waits at most one interval. Every count returned
 * includes the event being counted, so smtpd compares it with {@code >}.
 */
public final class ClientCounts {
  private final long timeUnitMillis;
  private int connections;
  private long intervalStart;
  private boolean intervalOpen;
  private int connectRate;
  private int mailRate;
  private int rcptRate;
  private int authRate;

  /** @param timeUnitMillis {@code anvil_rate_time_unit} */
  public ClientCounts(long timeUnitMillis) {
    if (timeUnitMillis <= 0) throw new IllegalArgumentException("anvil_rate_time_unit must be positive");
    this.timeUnitMillis = timeUnitMillis;
  }

  /** A new connection: its count of simultaneous connections and its connection rate, this one included. */
  public Anvil.Connected connect(long now) {
    tick(now);
    connections++;
    return new Anvil.Connected(connections, ++connectRate);
  }

  /** A connection has ended. */
  public void disconnect() {
    if (connections > 0) connections--;
  }

  /** A MAIL command: the message rate, this one included, and the recipient rate so far. */
  public Anvil.MailCounted mail(long now) {
    tick(now);
    return new Anvil.MailCounted(++mailRate, rcptRate);
  }

  /** One RCPT command. */
  public void rcpt(long now) {
    tick(now);
    rcptRate++;
  }

  /** An AUTH command: the AUTH rate, this one included. */
  public int auth(long now) {
    tick(now);
    return ++authRate;
  }

  /** Nothing left to remember: no connection open, and the rate interval has run out. */
  public boolean forgettable(long now) {
    return connections == 0 && (!intervalOpen || now - intervalStart >= timeUnitMillis);
  }

  private void tick(long now) {
    if (intervalOpen && now - intervalStart < timeUnitMillis) return;
    intervalOpen = true;
    intervalStart = now;
    connectRate = 0;
    mailRate = 0;
    rcptRate = 0;
    authRate = 0;
  }
}

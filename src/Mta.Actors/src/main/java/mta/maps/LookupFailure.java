package mta.maps;

/**
 * A table could not answer: its database is unreachable, slow or refuses the query. Postfix's
 * {@code DICT_ERR_RETRY}: smtpd answers {@code 451 4.3.0 ... Temporary lookup failure} and
 * cleanup defers, never as if the key were absent.
 */
public final class LookupFailure extends RuntimeException {
  public LookupFailure(String message, Throwable cause) {
    super(message, cause);
  }
}

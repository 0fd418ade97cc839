package mta.smtp;

import java.net.InetAddress;

/**
 * The connecting client as smtpd sees it: Postfix logs it as {@code name[address]}, with
 * {@code unknown} for the name when reverse DNS gives none.
 */
public record ClientInfo(InetAddress address, int port, String hostname) {

  public String addressText() {
    return address.getHostAddress();
  }

  /** {@code localhost[127.0.0.1]}. */
  @Override
  public String toString() {
    return hostname + "[" + addressText() + "]";
  }
}

package mta.routing;

import mta.CborSerializable;

/**
 * Where a recipient goes: Postfix's {@code transport:nexthop}. One DestinationQueue entity
 * exists per route, so the route's text is that entity's id.
 */
public record Route(String transport, String nexthop) implements CborSerializable {

  public static Route parse(String text) {
    int colon = text.indexOf(':');
    if (colon < 0) throw new IllegalArgumentException("expected transport:nexthop, got '" + text + "'");
    return new Route(text.substring(0, colon), text.substring(colon + 1));
  }

  @Override
  public String toString() {
    return transport + ":" + nexthop;
  }
}

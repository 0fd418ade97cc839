package mta.delivery.local;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The local users (Postfix's local_recipient_maps, by default the passwd file): a user's
 * home directory, or empty when there is no such user (the mail bounces, 5.1.1).
 */
@FunctionalInterface
public interface LocalUsers {
  Optional<Path> home(String user);
}

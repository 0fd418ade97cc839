package mta.smtp;

import com.typesafe.config.Config;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.File;
import java.util.Locale;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import mta.config.ConfigError;

/**
 * smtpd's TLS (RFC 3207 STARTTLS, RFC 8314 implicit TLS on {@code listen.submissions}), with
 * the JDK's SSLEngine under Netty's SslHandler, TLS 1.2 and 1.3 only.
 *
 * @param level {@code smtpd_tls_security_level}: {@code none}, {@code may} (offer STARTTLS) or
 *     {@code encrypt} (MAIL before STARTTLS is {@code 530 5.7.0})
 * @param context from {@code smtpd_tls_cert_file} and {@code smtpd_tls_key_file} (PEM, the key
 *     in PKCS#8); null when neither STARTTLS nor implicit TLS is configured
 */
record SmtpdTls(Level level, SslContext context) {

  enum Level { NONE, MAY, ENCRYPT }

  static SmtpdTls from(Config c, boolean implicitTls) {
    var key = "mta.smtpd_tls_security_level";
    Level level;
    try {
      level = Level.valueOf(c.getString(key).toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(c.getValue(key).origin().description() + ": " + key + ": expected none, may or encrypt");
    }
    if (level == Level.NONE && !implicitTls) return new SmtpdTls(level, null);
    var cert = c.getString("mta.smtpd_tls_cert_file");
    var privateKey = c.getString("mta.smtpd_tls_key_file");
    if (cert.isBlank() || privateKey.isBlank()) {
      throw new ConfigError(key + " = " + level.name().toLowerCase(Locale.ROOT) + " or mta.listen.submissions "
          + "needs mta.smtpd_tls_cert_file and mta.smtpd_tls_key_file");
    }
    try {
      return new SmtpdTls(level, SslContextBuilder.forServer(new File(cert), new File(privateKey))
          .sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2").build());
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigError("mta.smtpd_tls_cert_file " + cert + ", mta.smtpd_tls_key_file " + privateKey + ": " + e.getMessage());
    }
  }

  /** The session's protocol, cipher and key size ({@link SmtpdState.TlsSession#description()} words them as Postfix does). */
  static SmtpdState.TlsSession describe(SSLSession session) {
    var cipher = session.getCipherSuite();
    int bits = cipher.contains("_256_") || cipher.contains("CHACHA20") ? 256 : cipher.contains("_128_") ? 128 : 0;
    return new SmtpdState.TlsSession(session.getProtocol(), cipher, bits);
  }
}

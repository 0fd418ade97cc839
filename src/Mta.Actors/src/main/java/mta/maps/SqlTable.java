package mta.maps;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import mta.config.ConfigError;

/**
 * {@code sql:/etc/mta/virtual.cf} (also {@code pgsql:}): a table answered by a database query,
 * configured like Postfix's {@code pgsql_table(5)} files, {@code name = value} lines:
 *
 * <pre>
 * hosts    = 127.0.0.1:5432        (or jdbc_url = jdbc:postgresql://127.0.0.1:5432/mail)
 * dbname   = mail
 * user     = postfix
 * password = secret
 * query    = SELECT destination FROM virtual WHERE address = '%s'
 * </pre>
 *
 * <p>In {@code query}, {@code %s} is the key, {@code %u} its local part (the whole key when it
 * has no {@code @}), {@code %d} its domain (a key without one is not looked up), {@code %%} a
 * percent sign. Each quoted literal that holds an expansion is sent as a bound parameter,
 * never spliced into the SQL, so a key cannot inject SQL. Keys are folded to lower case.
 * Every row's first column is a result; several are joined with commas. Optional:
 * {@code result_format} ({@code %s}, {@code %u}, {@code %d} of each result; default
 * {@code %s}), {@code domain} (look up only {@code user@domain} keys of these domains) and
 * {@code timeout} (connect and query, default 5 seconds).
 *
 * <p>Connections come from a small pool opened at the first lookup. An unreachable or failing
 * database is a {@link LookupFailure}, never "not found". The file reloads when it changes.
 */
final class SqlTable implements LookupTable {
  private static final Pattern TIMEOUT = Pattern.compile("(\\d+)\\s*(ms|s)?");
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  /** The query with its expansions replaced by {@code ?}, and what each one is bound to. */
  private record Query(String sql, List<String> parameters) {}

  /** One version of the file, and the pool it opens when first used. */
  private static final class Source {
    final String url;
    final String user;
    final String password;
    final Query query;
    final String resultFormat;
    final List<String> domains;
    final Duration timeout;
    private HikariDataSource pool;

    Source(String url, String user, String password, Query query, String resultFormat, List<String> domains, Duration timeout) {
      this.url = url;
      this.user = user;
      this.password = password;
      this.query = query;
      this.resultFormat = resultFormat;
      this.domains = domains;
      this.timeout = timeout;
    }

    synchronized HikariDataSource pool(String name) {
      if (pool == null) {
        var config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(8);
        config.setMinimumIdle(0);
        config.setIdleTimeout(60_000);
        config.setReadOnly(true);
        config.setConnectionTimeout(Math.max(250, timeout.toMillis()));
        config.setValidationTimeout(Math.max(250, timeout.toMillis()));
        config.setInitializationFailTimeout(-1); // a database that is down is a lookup failure, later
        if (url.startsWith("jdbc:postgresql:")) {
          long seconds = Math.max(1, timeout.toSeconds());
          config.addDataSourceProperty("connectTimeout", seconds);
          config.addDataSourceProperty("socketTimeout", seconds);
        }
        pool = new HikariDataSource(config);
      }
      return pool;
    }

    synchronized void close() {
      if (pool != null) pool.close();
    }
  }

  private final String name;
  private final TableFile<Source> file;
  private Source inUse;

  SqlTable(String name, Path path) {
    this.name = name;
    this.file = new TableFile<>(name, path, SqlTable::parse);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Optional<String> get(String key) {
    var source = current();
    var folded = key.toLowerCase(Locale.ROOT);
    int at = folded.lastIndexOf('@');
    if (!source.domains.isEmpty() && (at <= 0 || !source.domains.contains(folded.substring(at + 1)))) return Optional.empty();
    var bound = new ArrayList<String>();
    for (var template : source.query.parameters()) {
      var value = expand(template, folded);
      if (value == null) return Optional.empty();
      bound.add(value);
    }
    var results = new ArrayList<String>();
    try (var connection = source.pool(name).getConnection();
         var statement = connection.prepareStatement(source.query.sql())) {
      statement.setQueryTimeout((int) Math.max(1, source.timeout.toSeconds()));
      for (int i = 0; i < bound.size(); i++) statement.setString(i + 1, bound.get(i));
      try (var rows = statement.executeQuery()) {
        while (rows.next()) {
          var value = rows.getString(1);
          var formatted = value == null || value.isEmpty() ? null : expand(source.resultFormat, value);
          if (formatted != null) results.add(formatted);
        }
      }
    } catch (SQLException e) {
      throw new LookupFailure(name + ": query failed: " + e.getMessage(), e);
    }
    return results.isEmpty() ? Optional.empty() : Optional.of(String.join(",", results));
  }

  /** The current version of the file; the pool of a version replaced by a reload is closed. */
  private synchronized Source current() {
    var source = file.current();
    if (inUse != null && inUse != source) inUse.close();
    inUse = source;
    return source;
  }

  /** Expands {@code %s %u %d %%} for {@code key}; null when {@code %d} is asked of a key without a domain. */
  private static String expand(String template, String key) {
    int at = key.lastIndexOf('@');
    var out = new StringBuilder();
    for (int i = 0; i < template.length(); i++) {
      char c = template.charAt(i);
      if (c != '%' || i + 1 == template.length()) {
        out.append(c);
        continue;
      }
      switch (template.charAt(++i)) {
        case 's' -> out.append(key);
        case 'u' -> out.append(at < 0 ? key : key.substring(0, at));
        case 'd' -> {
          if (at < 0) return null;
          out.append(key.substring(at + 1));
        }
        default -> out.append(template.charAt(i)); // %%
      }
    }
    return out.toString();
  }

  // --- the file -----------------------------------------------------------------------------

  private static Source parse(List<TableFile.Line> lines) {
    var settings = new HashMap<String, String>();
    var where = new HashMap<String, TableFile.Line>();
    for (var line : lines) {
      int eq = line.text().indexOf('=');
      if (eq <= 0) throw line.error("expected 'name = value', got '" + line.text() + "'");
      var key = line.text().substring(0, eq).strip().toLowerCase(Locale.ROOT);
      if (!List.of("hosts", "dbname", "jdbc_url", "user", "password", "query", "result_format", "domain", "timeout").contains(key)) {
        throw line.error("unknown setting '" + key + "'");
      }
      settings.put(key, line.text().substring(eq + 1).strip());
      where.put(key, line);
    }
    var anywhere = lines.isEmpty() ? null : lines.getFirst();
    if (!settings.containsKey("query")) throw missing(anywhere, "query");
    var url = settings.get("jdbc_url");
    if (url == null) {
      var hosts = settings.get("hosts");
      var dbname = settings.get("dbname");
      if (hosts == null || dbname == null) throw missing(anywhere, "jdbc_url, or hosts and dbname");
      var host = Maps.split(hosts).getFirst();
      if (host.startsWith("unix:")) throw where.get("hosts").error("UNIX-domain sockets are not supported: " + host);
      url = "jdbc:postgresql://" + (host.startsWith("inet:") ? host.substring(5) : host) + "/" + dbname;
    }
    var query = query(where.get("query"), settings.get("query"));
    var format = settings.getOrDefault("result_format", "%s");
    if (settings.containsKey("result_format")) checkExpansions(where.get("result_format"), format);
    var domains = Maps.split(settings.getOrDefault("domain", "")).stream().map(d -> d.toLowerCase(Locale.ROOT)).toList();
    return new Source(url, settings.getOrDefault("user", ""), settings.getOrDefault("password", ""), query, format, domains,
        timeout(where.get("timeout"), settings.get("timeout")));
  }

  private static ConfigError missing(TableFile.Line anywhere, String what) {
    return anywhere == null ? new ConfigError("empty SQL table file: " + what + " is required")
        : new ConfigError(anywhere.file() + ": " + what + " is required");
  }

  private static Duration timeout(TableFile.Line line, String text) {
    if (text == null) return DEFAULT_TIMEOUT;
    var m = TIMEOUT.matcher(text);
    if (!m.matches()) throw line.error("timeout: expected seconds, e.g. '5' or '5s', got '" + text + "'");
    long n = Long.parseLong(m.group(1));
    return "ms".equals(m.group(2)) ? Duration.ofMillis(n) : Duration.ofSeconds(n);
  }

  /**
   * Turns Postfix's query into a prepared statement: a quoted literal with an expansion in it
   * ({@code '%u'}, {@code '%u@example.com'}) becomes one parameter, and so does a bare one.
   */
  private static Query query(TableFile.Line line, String text) {
    var sql = new StringBuilder();
    var parameters = new ArrayList<String>();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\'') {
        var literal = new StringBuilder();
        int j = i + 1;
        for (; j < text.length(); j++) {
          if (text.charAt(j) != '\'') literal.append(text.charAt(j));
          else if (j + 1 < text.length() && text.charAt(j + 1) == '\'') literal.append(text.charAt(++j));
          else break;
        }
        if (j >= text.length()) throw line.error("unterminated quoted string in query");
        var content = literal.toString();
        checkExpansions(line, content);
        if (content.matches("(?s).*%[sud].*")) {
          sql.append('?');
          parameters.add(content);
        } else {
          sql.append('\'').append(content.replace("%%", "%").replace("'", "''")).append('\'');
        }
        i = j;
      } else if (c == '%') {
        if (i + 1 == text.length()) throw line.error("query ends in '%'");
        char what = text.charAt(++i);
        if (what == '%') {
          sql.append('%');
        } else {
          checkExpansions(line, "%" + what);
          sql.append('?');
          parameters.add("%" + what);
        }
      } else {
        sql.append(c);
      }
    }
    return new Query(sql.toString(), List.copyOf(parameters));
  }

  private static void checkExpansions(TableFile.Line line, String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) != '%') continue;
      if (i + 1 == text.length() || "sud%".indexOf(text.charAt(i + 1)) < 0) {
        throw line.error("unsupported expansion '%" + (i + 1 < text.length() ? text.charAt(i + 1) : "") + "' (use %s, %u, %d or %%)");
      }
      i++;
    }
  }
}

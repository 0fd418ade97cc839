# bin/lib.sh: what bin/mta and bin/mtactl share. Sourced with $root (the project) and $prog
# (the script's name, for messages) set; it finds the JDK and exports JAVA_HOME.

# A JDK of release 21 or newer: JAVA_HOME if it is one, else the newest under /usr/lib/jvm.
java_release() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
if [ -z "${JAVA_HOME:-}" ] || [ "$(java_release "$JAVA_HOME" 2>/dev/null || echo 0)" -lt 21 ]; then
  JAVA_HOME=""
  for d in /usr/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    r="$(java_release "$d" 2>/dev/null || echo 0)"
    if [ "$r" -ge 21 ] && [ "$r" -gt "${best:-0}" ]; then best="$r"; JAVA_HOME="$d"; fi
  done
  [ -n "$JAVA_HOME" ] || { echo "$prog: no JDK 21 or newer found (set JAVA_HOME)" >&2; exit 1; }
fi
export JAVA_HOME

node_dir="$root/src/Mta.Node/target"
build() { (cd "$root" && "${MVN:-mvn}" -q -B -DskipTests install) && touch "$node_dir/.built"; }

# run_java DIR JAVA_OPTS MAIN ARGS...: runs MAIN from DIR's classes and the jars in DIR/lib
# (the layout the image uses). MTA_LOG_FORMAT=json logs JSON lines instead of Postfix's.
run_java() {
  local dir="$1" opts="$2"; shift 2
  [ "${MTA_LOG_FORMAT:-}" = json ] && opts="$opts -Dlogback.configurationFile=logback-json.xml"
  # java.lang open: Pekko reads the virtual threads' scheduler for smtpd's dispatcher
  # (hocon/mta-node.conf) and logs a warning at start without it.
  exec "$JAVA_HOME/bin/java" --add-opens=java.base/java.lang=ALL-UNNAMED $opts -cp "$dir/classes:$dir/lib/*" "$@"
}

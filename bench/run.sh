#!/usr/bin/env bash
# bench/run.sh: relay throughput, our node side by side with a stock Postfix, same machine,
# same load generator (smtp-source), same next hop (smtp-sink). See bench/README.md.
set -euo pipefail

# Run as a child subreaper, so the daemons Postfix forks are reaped by this script (not left as
# zombies under a PID 1 that does not reap) and nothing we started can escape the cleanup.
if [ -z "${BENCH_REAPER:-}" ] && command -v perl >/dev/null; then
  export BENCH_REAPER=1
  exec perl -e 'syscall(157, 36, 1, 0, 0, 0); exec @ARGV or die "exec: $!"' -- bash "$0" "$@"
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=5000 SESSIONS=20 SIZE=4096 RUNS=3 WARMUP=500 JOURNAL=h2 ONLY="" KEEP="" RUN_TIMEOUT=600 REUSE="" DEFERRED=0
usage() {
  cat <<EOF
usage: bench/run.sh [options]
  -n N                messages per measured run (default $N)
  -s SESSIONS         parallel SMTP sessions of smtp-source (default $SESSIONS)
  -l BYTES            payload bytes per message (default $SIZE)
  -r RUNS             measured runs of each system, alternating (default $RUNS)
  -w N                warm-up messages before each measured run, 0 for none (default $WARMUP)
  -d                  reuse each session for several messages (smtp-source -d); default: one per connection
  --journal h2|postgres   the node's journal (default h2: embedded, in the data directory)
  --only node|postfix run one side only
  --timeout SEC       bound of one run (accept + deliver), default $RUN_TIMEOUT
  --keep              keep the work directory (configs, logs, queues)
  --deferred D        instead: the node alone with D messages deferred for a dead destination;
                      heap after a full GC and journal size, and the throughput of healthy
                      mail (-n messages) before and while they wait (see bench/README.md)
EOF
}
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N="$2"; shift 2 ;;
    -s) SESSIONS="$2"; shift 2 ;;
    -l) SIZE="$2"; shift 2 ;;
    -r) RUNS="$2"; shift 2 ;;
    -w) WARMUP="$2"; shift 2 ;;
    -d) REUSE=1; shift ;;
    --journal) JOURNAL="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --timeout) RUN_TIMEOUT="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --deferred) DEFERRED="$2"; ONLY=node; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
case "$JOURNAL" in h2|postgres) ;; *) echo "--journal h2|postgres" >&2; exit 2 ;; esac
case "$ONLY" in ""|node|postfix) ;; *) echo "--only node|postfix" >&2; exit 2 ;; esac

for b in /usr/sbin/smtp-sink /usr/sbin/smtp-source /usr/sbin/postfix; do
  [ -x "$b" ] || { echo "bench: $b missing (apt-get install postfix)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (a private Postfix instance and smtp-sink -u nobody)" >&2; exit 1; }

W="$(mktemp -d -t mta-bench.XXXXXX)"
chmod 755 "$W"
HZ="$(getconf CLK_TCK)"
now() { date +%s.%N; }
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

# ---------------------------------------------------------------- processes we own
SINK_PID="" NODE_PID="" PFX_ETC="" PFX_QUEUE=""
cleanup() {
  set +e
  stop_node; stop_postfix; stop_sink
  [ -n "${PG_SCHEMA:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" test >/dev/null 2>&1
  if [ -n "$KEEP" ]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 40000 ))
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
await_listening() { # port seconds pid-to-watch
  local deadline=$(( $(date +%s) + $2 ))
  until listening "$1"; do
    [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && return 1
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

start_sink() { # -> SINK_PORT, SINK_OUT
  SINK_PORT=$(free_port); SINK_OUT="$W/sink-$SINK_PORT.out"
  /usr/sbin/smtp-sink -u nobody -c 127.0.0.1:"$SINK_PORT" 1024 >"$SINK_OUT" 2>&1 &
  SINK_PID=$!
  await_listening "$SINK_PORT" 10 "$SINK_PID" || { echo "bench: smtp-sink did not start" >&2; cat "$SINK_OUT" >&2; exit 1; }
}
stop_sink() {
  [ -n "$SINK_PID" ] || return 0
  kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""
}
# Messages the sink has received ("." seen): the last mesg= of its -c counters.
sink_count() {
  local n
  n=$(tail -c 300 "$SINK_OUT" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2)
  echo "${n:-0}"
}
await_sink() { # count seconds -> 0 when reached
  local deadline; deadline=$(awk -v t="$(now)" -v s="$2" 'BEGIN{printf "%.3f", t+s}')
  while [ "$(sink_count)" -lt "$1" ]; do
    awk -v t="$(now)" -v d="$deadline" 'BEGIN{exit !(t>d)}' && return 1
    sleep 0.05
  done
}

# CPU seconds (user+system, children reaped included) of one process / of a process tree.
ticks() { # pid -> utime+stime+cutime+cstime in ticks
  local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }
  awk '{print $12+$13+$14+$15}' <<<"$s"
}
tree_ticks() { # pid -> ticks of it and its live children
  local t; t=$(ticks "$1")
  for c in $(pgrep -P "$1"); do t=$(( t + $(ticks "$c") )); done
  echo "$t"
}

# ---------------------------------------------------------------- our node
prepare_node() {
  if [ -z "${MTA_NO_BUILD:-}" ]; then
    log "building the node (bin/mta build)"
    "$root/bin/mta" build >"$W/build.log" 2>&1 || { tail -40 "$W/build.log" >&2; echo "bench: build failed" >&2; exit 1; }
  fi
  if [ "$JOURNAL" = postgres ]; then
    PG_SCHEMA="mta_bench_$$"
    pg_isready -q -h 127.0.0.1 || { echo "bench: PostgreSQL at 127.0.0.1:5432 is not up" >&2; exit 1; }
  fi
}
start_node() { # run-index -> SMTP_PORT, SYS_PID
  local i=$1 d="$W/node-$1"
  mkdir -p "$d"
  SMTP_PORT=$(free_port)
  local pg=""
  if [ "$JOURNAL" = postgres ]; then
    PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -U postgres -qc "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE; CREATE SCHEMA $PG_SCHEMA" test >/dev/null
    pg="persistence = \"postgres\"
  postgres { url = \"jdbc:postgresql://127.0.0.1:5432/test?currentSchema=$PG_SCHEMA\", user = \"postgres\", password = \"\" }"
  fi
  cat >"$d/node.conf" <<EOF
mta {
  myhostname = "bench-node.test"
  mydestination = []
  relayhost = "[127.0.0.1]:$SINK_PORT"
  listen.smtp = "127.0.0.1:$SMTP_PORT"
  data_directory = "$d/data"
  $pg
  ${NODE_CONF_EXTRA:-}
}
pekko.remote.artery.canonical.hostname = "127.0.0.1"
pekko.remote.artery.canonical.port = $(free_port)
EOF
  MTA_NO_BUILD=1 "$root/bin/mta" node --config "$d/node.conf" >"$d/node.log" 2>&1 </dev/null &
  NODE_PID=$!; SYS_PID=$NODE_PID
  await_listening "$SMTP_PORT" 120 "$NODE_PID" || { tail -40 "$d/node.log" >&2; echo "bench: node did not listen on $SMTP_PORT" >&2; exit 1; }
}
stop_node() {
  [ -n "$NODE_PID" ] || return 0
  kill -TERM "$NODE_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; NODE_PID=""
}
node_cpu() { ticks "$NODE_PID"; }

# ---------------------------------------------------------------- stock Postfix, private instance
start_postfix() { # run-index -> SMTP_PORT, SYS_PID
  local d="$W/postfix-$1"
  PFX_ETC="$d/etc"; PFX_QUEUE="$d/spool"
  mkdir -p "$PFX_ETC" "$PFX_QUEUE" "$d/data"
  chown postfix "$d/data"
  SMTP_PORT=$(free_port)
  cat >"$PFX_ETC/main.cf" <<EOF
# A stock Postfix relay, private to this benchmark run (never /etc/postfix).
compatibility_level = 3.6
queue_directory = $PFX_QUEUE
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = postfix-bench.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
default_transport = smtp
relay_transport = relay
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
biff = no
EOF
  # master.cf: the stock services, without chroot (the private queue has no chroot files).
  cat >"$PFX_ETC/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  /usr/sbin/postfix -c "$PFX_ETC" check >"$d/start.log" 2>&1 && \
  /usr/sbin/postfix -c "$PFX_ETC" start >>"$d/start.log" 2>&1 || {
    cat "$d/start.log" "$d/maillog" >&2 2>/dev/null; echo "bench: postfix did not start" >&2; exit 1; }
  for _ in $(seq 1 100); do [ -s "$PFX_QUEUE/pid/master.pid" ] && break; sleep 0.1; done
  SYS_PID=$(tr -d ' \n' <"$PFX_QUEUE/pid/master.pid")
  await_listening "$SMTP_PORT" 30 || { cat "$d/maillog" >&2; echo "bench: postfix smtpd not listening" >&2; exit 1; }
}
stop_postfix() {
  [ -n "$PFX_ETC" ] || return 0
  local m=""; [ -s "$PFX_QUEUE/pid/master.pid" ] && m=$(tr -d ' \n' <"$PFX_QUEUE/pid/master.pid")
  /usr/sbin/postfix -c "$PFX_ETC" stop >/dev/null 2>&1 || true
  if [ -n "$m" ]; then
    for _ in $(seq 1 50); do kill -0 "$m" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$m" 2>/dev/null; then
      pkill -KILL -P "$m" 2>/dev/null || true; kill -KILL "$m" 2>/dev/null || true
    fi
  fi
  PFX_ETC=""; PFX_QUEUE=""
}
postfix_cpu() { tree_ticks "$SYS_PID"; }

# ---------------------------------------------------------------- one measured run
source_args() { # count
  local a=(-s "$SESSIONS" -m "$1" -l "$SIZE" -f sender@client.test -t rcpt@example.net -M client.test)
  [ -n "$REUSE" ] && a+=(-d)
  echo "${a[@]}"
}
RESULTS="$W/results.tsv"
: >"$RESULTS"
run_once() { # system index
  local sys=$1 i=$2
  start_sink
  if [ "$sys" = node ]; then start_node "$i"; else start_postfix "$i"; fi
  local base=0
  if [ "$WARMUP" -gt 0 ]; then
    # shellcheck disable=SC2046
    timeout "$RUN_TIMEOUT" /usr/sbin/smtp-source $(source_args "$WARMUP") 127.0.0.1:"$SMTP_PORT" >"$W/$sys-$i-warmup.out" 2>&1 \
      || { log "$sys run $i: warm-up smtp-source failed: $(tail -3 "$W/$sys-$i-warmup.out")"; }
    await_sink "$WARMUP" "$RUN_TIMEOUT" || log "$sys run $i: warm-up not all delivered ($(sink_count)/$WARMUP)"
    base=$(sink_count)
  fi
  local cpu0 t0 t1 t2 rc=0 cpu1 delivered_ok=1
  cpu0=$(${sys}_cpu); t0=$(now)
  # shellcheck disable=SC2046
  timeout "$RUN_TIMEOUT" /usr/sbin/smtp-source $(source_args "$N") 127.0.0.1:"$SMTP_PORT" >"$W/$sys-$i.out" 2>&1 || rc=$?
  t1=$(now)
  await_sink $(( base + N )) "$RUN_TIMEOUT" || delivered_ok=0
  t2=$(now); cpu1=$(${sys}_cpu)
  local got=$(( $(sink_count) - base ))
  if [ "$rc" -ne 0 ]; then log "$sys run $i: smtp-source exit $rc: $(tail -3 "$W/$sys-$i.out" | tr '\n' ' ')"; fi
  if [ "$delivered_ok" -ne 1 ]; then log "$sys run $i: only $got of $N delivered within ${RUN_TIMEOUT}s"; fi
  awk -v s="$sys" -v i="$i" -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v c0="$cpu0" -v c1="$cpu1" \
      -v hz="$HZ" -v ok=$(( rc == 0 && delivered_ok == 1 )) -v got="$got" 'BEGIN{
    acc=n/(t1-t0); del=n/(t2-t0); cpu=(c1-c0)/hz
    printf "%s\t%d\t%.1f\t%.1f\t%.3f\t%.1f\t%d\t%d\n", s, i, acc, del, t2-t0, cpu*1000000/n, ok, got }' >>"$RESULTS"
  tail -1 "$RESULTS" | awk -F'\t' '{printf "  %-8s run %d: accepted %8.1f msg/s, delivered %8.1f msg/s (%.2f s), CPU %7.1f us/msg%s\n",
    $1, $2, $3, $4, $5, $6, ($7==1?"":"  [FAILED: "$8" delivered]")}'
  if [ "$sys" = node ]; then stop_node; else stop_postfix; fi
  stop_sink
}

# ---------------------------------------------------------------- --deferred: a large deferred queue
# The node's heap after a full GC (jcmd GC.run, then GC.heap_info), in KB.
heap_used_kb() {
  "$JAVA_HOME/bin/jcmd" "$NODE_PID" GC.run >/dev/null 2>&1 || true
  "$JAVA_HOME/bin/jcmd" "$NODE_PID" GC.heap_info 2>/dev/null | grep -o 'used [0-9]*K' | head -1 | tr -dc 0-9
}
healthy_rate() { # label -> prints and sets RATE (delivered msg/s of N healthy messages)
  local base t0 t1; base=$(sink_count); t0=$(now)
  # shellcheck disable=SC2046
  timeout "$RUN_TIMEOUT" /usr/sbin/smtp-source $(source_args "$N") 127.0.0.1:"$SMTP_PORT" >"$W/healthy-$1.out" 2>&1 \
    || log "healthy $1: smtp-source failed: $(tail -3 "$W/healthy-$1.out" | tr '\n' ' ')"
  await_sink $(( base + N )) "$RUN_TIMEOUT" || log "healthy $1: only $(( $(sink_count) - base )) of $N delivered"
  t1=$(now); RATE=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", n/(b-a)}')
  printf '  healthy mail %-28s %8s msg/s delivered (%d messages)\n' "$1:" "$RATE" "$N"
}
deferred_run() {
  JAVA_HOME="$(prog=bench/run.sh; . "$root/bin/lib.sh" >/dev/null; echo "$JAVA_HOME")"
  [ -x "$JAVA_HOME/bin/jcmd" ] || { echo "bench: no jcmd under JAVA_HOME=$JAVA_HOME" >&2; exit 1; }
  local dead; dead=$(free_port) # nothing listens there: every attempt is refused
  NODE_CONF_EXTRA="transport_maps = [ \"inline:{ dead.test=smtp:[127.0.0.1]:$dead }\" ]
  minimal_backoff_time = 3600s
  maximal_backoff_time = 3600s
  queue_run_delay = 30s"
  echo "bench: node ($JOURNAL journal), $DEFERRED messages x $SIZE bytes deferred for dead.test; healthy batches of $N; heap ${MTA_JAVA_OPTS:--Xms256m -Xmx1g}"
  start_sink; start_node deferred
  healthy_rate "warm-up"; healthy_rate "before"; local before=$RATE
  local heap0; heap0=$(heap_used_kb)
  local t0 t1; t0=$(now)
  timeout "$RUN_TIMEOUT" /usr/sbin/smtp-source -s "$SESSIONS" -m "$DEFERRED" -l "$SIZE" -f sender@client.test \
    -t rcpt@dead.test -M client.test 127.0.0.1:"$SMTP_PORT" >"$W/deferred.out" 2>&1 || log "deferred load: smtp-source failed: $(tail -3 "$W/deferred.out")"
  t1=$(now)
  local deadline=$(( $(date +%s) + RUN_TIMEOUT ))
  until [ "$(grep -c 'status=deferred' "$W/node-deferred/node.log")" -ge "$DEFERRED" ] || [ "$(date +%s)" -ge "$deadline" ]; do sleep 1; done
  local deferred_n; deferred_n=$(grep -c 'status=deferred' "$W/node-deferred/node.log")
  sleep 5
  local heap1; heap1=$(heap_used_kb)
  # What the heap holds with them waiting (the largest classes), to tell caches from queue state.
  "$JAVA_HOME/bin/jcmd" "$NODE_PID" GC.class_histogram 2>/dev/null | sed -n '4,11p' >"$W/histogram.txt" || true
  healthy_rate "while $deferred_n wait"; local during=$RATE
  local heap2; heap2=$(heap_used_kb)
  local journal_kb
  if [ "$JOURNAL" = h2 ]; then journal_kb=$(du -sk "$W/node-deferred/data" | cut -f1)
  else journal_kb=$(psql -h 127.0.0.1 -U postgres -Atqc "select (pg_total_relation_size('$PG_SCHEMA.event_journal') + pg_total_relation_size('$PG_SCHEMA.event_tag'))/1024" test); fi
  awk -v d="$deferred_n" -v acc="$(awk -v n="$DEFERRED" -v a="$t0" -v b="$t1" 'BEGIN{print n/(b-a)}')" \
      -v h0="$heap0" -v h1="$heap1" -v h2="$heap2" -v j="$journal_kb" -v b="$before" -v w="$during" 'BEGIN{
    printf "  deferred: %d messages accepted at %.1f msg/s, all logged status=deferred\n", d, acc
    printf "  heap after full GC: %.1f MB before, %.1f MB with them waiting, %.1f MB after healthy mail\n", h0/1024, h1/1024, h2/1024
    printf "  journal: %.1f MB\n", j/1024
    printf "  healthy throughput while they wait: %.2f of before\n", (b>0 ? w/b : 0)
    printf "  per deferred message, linearly (an upper bound: caches of fixed size count too): heap %.0f bytes, journal %.0f bytes\n",
      (h1-h0)*1024/d, j*1024/d }'
  echo "  largest classes on the heap with them waiting (jcmd GC.class_histogram):"
  sed 's/^/    /' "$W/histogram.txt"
}

if [ "$DEFERRED" -gt 0 ]; then
  prepare_node; deferred_run; exit 0
fi

systems=()
[ "$ONLY" != postfix ] && systems+=(node)
[ "$ONLY" != node ] && systems+=(postfix)
[ "$ONLY" != postfix ] && prepare_node

echo "bench: $N messages x $SIZE bytes, $SESSIONS sessions$([ -n "$REUSE" ] && echo ', connections reused'), $RUNS runs each, warm-up $WARMUP; node journal: $JOURNAL; $(nproc) cores"
t_start=$(date +%s)
for i in $(seq 1 "$RUNS"); do
  # alternate the order, so that neither side always runs on a warmer machine
  if [ $(( i % 2 )) -eq 1 ]; then order=("${systems[@]}"); else order=(); for (( k=${#systems[@]}-1; k>=0; k-- )); do order+=("${systems[$k]}"); done; fi
  for sys in "${order[@]}"; do run_once "$sys" "$i"; done
done

median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2} }'; }
col() { awk -F'\t' -v s="$1" -v c="$2" '$1==s && $7==1 {print $c}' "$RESULTS" | median; }
echo
echo "medians over successful runs (accepted = smtp-source done; delivered = all $N counted by the sink):"
printf '  %-22s %14s %14s %14s %6s\n' system "accepted/s" "delivered/s" "CPU us/msg" runs
for sys in "${systems[@]}"; do
  label=$sys; [ "$sys" = node ] && label="node ($JOURNAL journal)"; [ "$sys" = postfix ] && label="postfix $(postconf -h mail_version 2>/dev/null)"
  okruns=$(awk -F'\t' -v s="$sys" '$1==s && $7==1' "$RESULTS" | wc -l)
  printf '  %-22s %14s %14s %14s %3d/%d\n' "$label" "$(col "$sys" 3)" "$(col "$sys" 4)" "$(col "$sys" 6)" "$okruns" "$RUNS"
done
if [ "${#systems[@]}" -eq 2 ]; then
  awk -v na="$(col node 3)" -v pa="$(col postfix 3)" -v nd="$(col node 4)" -v pd="$(col postfix 4)" \
      -v nc="$(col node 6)" -v pc="$(col postfix 6)" 'BEGIN{
    printf "  ratio node/postfix:   accepted %s, delivered %s, CPU per message %s\n",
      (pa>0 && na>0) ? sprintf("%.2f", na/pa) : "n/a",
      (pd>0 && nd>0) ? sprintf("%.2f", nd/pd) : "n/a",
      (pc>0 && nc>0) ? sprintf("%.2f", nc/pc) : "n/a" }'
fi
echo "bench: done in $(( $(date +%s) - t_start ))s"
failed=$(awk -F'\t' '$7!=1' "$RESULTS" | wc -l)
[ "$failed" -eq 0 ]

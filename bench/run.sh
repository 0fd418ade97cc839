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
N=5000 SESSIONS=20 SIZE=4096 RUNS=3 WARMUP=60000 JOURNAL=h2 ONLY="" KEEP="" RUN_TIMEOUT=600 REUSE="" DEFERRED=0 JFR=""
LATENCY="" LAT_N=3000 LAT_WARMUP="" LOAD=0.5 RATE="" PEAK_node="" PEAK_postfix="" NODES=1 APART=""
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
  --jfr               record each node with JFR (settings=profile) during each measured batch;
                      prints where its execution samples fall (thread group, method), keeps the
                      work directory with the recordings (the figures of such runs include JFR's cost)
  --deferred D        instead: the node alone with D messages deferred for a dead destination;
                      heap after a full GC and journal size, and the throughput of healthy
                      mail (-n messages) before and while they wait (see bench/README.md)
  --latency           instead: accept latency (end of DATA to 250) at a fraction of peak load:
                      throughput runs (-n) give each system's peak (median accepted/s), then
                      runs of bench/AcceptLatency.java offer --load x that peak (each system
                      x its own peak), open loop, -s sessions, --latency-n messages;
                      p50/p90/p99/max of end of DATA to 250
  --load F            fraction of the peak offered in --latency (default $LOAD)
  --latency-n M       messages per latency run (default $LAT_N)
  --latency-warmup M  smtp-source messages (full speed) before each latency run; default -w plus
                      -n, so the system is as warm as at the end of a throughput run
  --peak-node R, --peak-postfix R
                      take that system's peak (msg/s) from here instead of measuring it
  --rate R            offer R msg/s to both systems instead (no peak runs)
  --nodes K           instead: K nodes in one cluster (needs --journal postgres) against one node,
                      same journal, alternating; the load is split over the K nodes' SMTP ports
                      (one smtp-source each, -n/K messages, -s/K sessions, started together)
  --apart             with --nodes K: also K nodes apart (each its own one-node cluster and
                      journal schema, the same load split), so the cluster's cost shows apart
                      from that of K JVMs sharing the machine
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
    --jfr) JFR=1; KEEP=1; shift ;;
    --deferred) DEFERRED="$2"; ONLY=node; shift 2 ;;
    --latency) LATENCY=1; shift ;;
    --load) LOAD="$2"; shift 2 ;;
    --latency-n) LAT_N="$2"; shift 2 ;;
    --latency-warmup) LAT_WARMUP="$2"; shift 2 ;;
    --peak-node) PEAK_node="$2"; shift 2 ;;
    --peak-postfix) PEAK_postfix="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --nodes) NODES="$2"; shift 2 ;;
    --apart) APART=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
case "$JOURNAL" in h2|postgres) ;; *) echo "--journal h2|postgres" >&2; exit 2 ;; esac
case "$ONLY" in ""|node|postfix) ;; *) echo "--only node|postfix" >&2; exit 2 ;; esac
[[ "$NODES" =~ ^[1-9][0-9]?$ ]] || { echo "--nodes K: 1 to 99" >&2; exit 2; }
if [ "$NODES" -gt 1 ]; then
  [ "$JOURNAL" = postgres ] || { echo "bench: --nodes $NODES needs --journal postgres (a cluster shares one journal)" >&2; exit 2; }
  [ -z "$LATENCY" ] && [ "$DEFERRED" -eq 0 ] && [ -z "$ONLY" ] || { echo "bench: --nodes goes with none of --latency, --deferred, --only" >&2; exit 2; }
  [ "$SESSIONS" -ge "$NODES" ] && [ "$N" -ge "$NODES" ] || { echo "bench: --nodes $NODES needs -s and -n of at least $NODES" >&2; exit 2; }
fi
[ -z "$APART" ] || [ "$NODES" -gt 1 ] || { echo "bench: --apart goes with --nodes K" >&2; exit 2; }
LAT_WARMUP=${LAT_WARMUP:-$(( WARMUP + N ))}
if [ -n "$LATENCY" ]; then
  awk -v f="$LOAD" 'BEGIN{exit !(f>0 && f<=1)}' || { echo "--load F: 0 < F <= 1" >&2; exit 2; }
  [ "$DEFERRED" -eq 0 ] || { echo "bench: --latency or --deferred, not both" >&2; exit 2; }
fi

for b in /usr/sbin/smtp-sink /usr/sbin/smtp-source /usr/sbin/postfix; do
  [ -x "$b" ] || { echo "bench: $b missing (apt-get install postfix)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (a private Postfix instance and smtp-sink -u nobody)" >&2; exit 1; }

W="$(mktemp -d -t mta-bench.XXXXXX)"
chmod 755 "$W"
HZ="$(getconf CLK_TCK)"
now() { date +%s.%N; }
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
kv() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | head -1; } # key file: a value of AcceptLatency's key=value line

# ---------------------------------------------------------------- processes we own
SINK_PID="" NODE_PID="" NODE_PIDS=() PFX_ETC="" PFX_QUEUE=""
cleanup() {
  set +e
  stop_node; stop_postfix; stop_sink
  [ -n "${PG_SCHEMA:-}" ] && drop_schemas
  if [ -n "$KEEP" ]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a free loopback port, never one handed out before in this invocation
  local p
  while :; do
    p=$(( 20000 + RANDOM % 40000 ))
    grep -qx "$p" "$W/ports" 2>/dev/null && continue
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . || { echo "$p" >>"$W/ports"; echo "$p"; return; }
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
# The whole machine's CPU ticks, "busy total interrupts postgres sink steal" (busy = all but idle
# and iowait; interrupts = irq and softirq, loopback TCP's receive side; steal = time the
# hypervisor gave this machine's CPUs to others, counted in busy; postgres = every
# postgres process, the postmaster with the backends it reaped): whether a batch had the cores
# to itself or left some idle, and what besides the system measured took them.
machine_ticks() {
  local pg=0 p
  for p in $(pgrep -x postgres); do pg=$(( pg + $(ticks "$p") )); done
  awk -v pg="$pg" -v sink="$( [ -n "$SINK_PID" ] && ticks "$SINK_PID" || echo 0)" \
    '/^cpu /{t=0; for (i=2; i<=NF; i++) t+=$i; print t-$5-$6, t, $7+$8, pg, sink, $9}' /proc/stat
}
# PostgreSQL's own counts (--journal postgres): transactions committed in the database, WAL
# flushes and WAL bytes. Backends publish them within a second, so read them a second after
# a batch: what a group commit holds shows as messages per transaction and per flush.
pg_counts() {
  [ "$JOURNAL" = postgres ] || return 0
  psql -h 127.0.0.1 -U postgres -Atqc "SELECT d.xact_commit, w.wal_sync, w.wal_bytes FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = 'test'" test | tr '|' ' '
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
# The schemas of this invocation: PG_SCHEMA, and PG_SCHEMA_N for the other nodes apart.
drop_schemas() {
  psql -h 127.0.0.1 -U postgres -Atqc "SELECT nspname FROM pg_namespace WHERE nspname = '$PG_SCHEMA' OR nspname LIKE '${PG_SCHEMA}\\_%'" test \
    | while read -r s; do PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -U postgres -qc "DROP SCHEMA IF EXISTS $s CASCADE" test >/dev/null; done
}
start_node() { # run-index -> SMTP_PORT, SYS_PID (one node)
  start_nodes "$1" 1
}
start_cluster() { # run-index -> NODE_PORTS, SMTP_PORT and SYS_PID of the first ($NODES nodes)
  start_nodes "$1" "$NODES"
}
start_apart() { # run-index: $NODES nodes, each a cluster of its own with its own journal schema
  start_nodes "$1" "$NODES" apart
}
# K nodes (K > 1: one Pekko cluster; the first node is the seed every node names, so it forms
# the cluster and the others join it; no seed-only member), all started at once. With "apart",
# each node forms a cluster of its own and has a journal schema of its own.
start_nodes() { # run-index K [apart] -> NODE_PIDS, NODE_PORTS, NODE_DIRS, NODE_MGMT; SMTP_PORT, SYS_PID, NODE_PID of the first
  local i=$1 k=$2 apart=${3:-} j seeds="" schema
  [ "$JOURNAL" = postgres ] && drop_schemas
  local arts=()
  NODE_PIDS=() NODE_PORTS=() NODE_DIRS=() NODE_MGMT=()
  for j in $(seq 1 "$k"); do NODE_PORTS+=("$(free_port)"); arts+=("$(free_port)"); NODE_MGMT+=("$(free_port)"); done
  # K nodes on one machine stand for K pods with a CPU limit of cores/K each: a JVM in such a
  # pod sees ceil(cores/K) processors (its container support) and sizes its dispatchers and
  # chooses its GC by that, not by the whole machine.
  local opts="${MTA_JAVA_OPTS:--Xms256m -Xmx1g}"
  [ "$k" -gt 1 ] && opts="$opts -XX:ActiveProcessorCount=$(( ($(nproc) + k - 1) / k ))"
  [ "$k" -gt 1 ] && [ -z "$apart" ] && seeds="pekko.cluster.seed-nodes = [ \"pekko://mta@127.0.0.1:${arts[0]}\" ]"
  for j in $(seq 1 "$k"); do
    local d="$W/node-$i" pg=""; [ "$k" -gt 1 ] && d="$W/${apart:-cluster}-$i/node$j"
    mkdir -p "$d"; NODE_DIRS+=("$d")
    if [ "$JOURNAL" = postgres ]; then
      schema=$PG_SCHEMA; [ -n "$apart" ] && [ "$j" -gt 1 ] && schema="${PG_SCHEMA}_$j"
      PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -U postgres -qc "CREATE SCHEMA IF NOT EXISTS $schema" test >/dev/null
      pg="persistence = \"postgres\"
  postgres { url = \"jdbc:postgresql://127.0.0.1:5432/test?currentSchema=$schema\", user = \"postgres\", password = \"\" }"
    fi
    cat >"$d/node.conf" <<EOF
mta {
  myhostname = "bench-node$([ "$k" -gt 1 ] && echo "$j").test"
  mydestination = []
  relayhost = "[127.0.0.1]:$SINK_PORT"
  listen.smtp = "127.0.0.1:${NODE_PORTS[$((j-1))]}"
  management.listen = "127.0.0.1:${NODE_MGMT[$((j-1))]}"
  data_directory = "$d/data"
  # The queue run removes the messages finished since the run before: every 10 s, each batch
  # carries the removal of about its own messages, as a relay at steady state does. With the
  # default 300 s the first removal after the start took the whole warm-up's messages (three
  # times as many in a cluster of three) and fell in the cluster's batch, not one node's.
  queue_run_delay = 10s
  $pg
  ${NODE_CONF_EXTRA:-}
}
pekko.remote.artery.canonical.hostname = "127.0.0.1"
pekko.remote.artery.canonical.port = ${arts[$((j-1))]}
$seeds
${NODE_CONF_TOP:-}
EOF
    MTA_JAVA_OPTS="$opts" MTA_NO_BUILD=1 "$root/bin/mta" node --config "$d/node.conf" >"$d/node.log" 2>&1 </dev/null &
    NODE_PIDS+=($!)
  done
  NODE_PID=${NODE_PIDS[0]}; SYS_PID=$NODE_PID; SMTP_PORT=${NODE_PORTS[0]}
  for j in $(seq 0 $((k-1))); do
    await_listening "${NODE_PORTS[$j]}" 120 "${NODE_PIDS[$j]}" || {
      tail -40 "${NODE_DIRS[$j]}/node.log" >&2; echo "bench: node $((j+1)) did not listen on ${NODE_PORTS[$j]}" >&2; exit 1; }
  done
  [ "$k" -gt 1 ] || return 0
  # SMTP listens before the node has joined: wait until the first node sees all K Up (Pekko
  # Management's /cluster/members on the management endpoint), then until each node queues a
  # message (the first ones may get 451 while sharding and the journal warm up).
  local deadline=$(( $(date +%s) + 120 )) up=0
  while [ -z "$apart" ]; do
    up=$(curl -s -m 5 "http://127.0.0.1:${NODE_MGMT[0]}/cluster/members" 2>/dev/null | grep -o '"status" *: *"Up"' | wc -l) || up=0
    [ "$up" -ge "$k" ] && break
    [ "$(date +%s)" -ge "$deadline" ] && { echo "bench: only $up of $k nodes Up within 120 s" >&2; exit 1; }
    sleep 0.5
  done
  for j in $(seq 0 $((k-1))); do
    until "$JAVA_HOME/bin/java" "$root/bench/AcceptLatency.java" -n 1 -r 10 -s 1 -l 100 --timeout 30 \
        127.0.0.1:"${NODE_PORTS[$j]}" >"$W/probe.out" 2>&1; do
      [ "$(date +%s)" -ge "$deadline" ] && { cat "$W/probe.out" >&2; echo "bench: node $((j+1)) did not queue a message" >&2; exit 1; }
      sleep 0.5
    done
  done
  log "$([ -n "$apart" ] && echo "$k nodes apart" || echo "cluster of $k nodes") Up, each queued a probe message"
}
stop_node() { # every node we started, in parallel: SIGTERM, kill -9 after 20 s
  [ "${#NODE_PIDS[@]}" -gt 0 ] || return 0
  local p alive
  for p in "${NODE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0; for p in "${NODE_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break; sleep 0.2
  done
  for p in "${NODE_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  NODE_PIDS=(); NODE_PID=""
}
# A system of K nodes (one cluster, or apart): the load is split over their SMTP ports.
# --jfr: a recording of each node over the measured batch, and where its samples fall.
jfr_start() { # system
  [ "$1" != postfix ] || return 0
  local p; for p in "${NODE_PIDS[@]}"; do "$JAVA_HOME/bin/jcmd" "$p" JFR.start name=bench settings=profile >/dev/null; done
}
jfr_stop() { # system index
  [ "$1" != postfix ] || return 0
  local p k=0 files=()
  for p in "${NODE_PIDS[@]}"; do
    k=$(( k + 1 )); files+=("$W/$1-$2-node$k.jfr")
    "$JAVA_HOME/bin/jcmd" "$p" JFR.stop name=bench filename="$W/$1-$2-node$k.jfr" >/dev/null
  done
  log "JFR recordings: ${files[*]}"
  # the method on top of each sample, by thread group (thread names without their numbers)
  for f in "${files[@]}"; do "$JAVA_HOME/bin/jfr" print --events jdk.ExecutionSample --stack-depth 1 "$f"; done | awk '
    /sampledThread = /{t=$0; sub(/.*sampledThread = "/, "", t); sub(/".*/, "", t); gsub(/[0-9]+/, "N", t); next}
    /stackTrace = \[/{getline m; sub(/^ +/, "", m); sub(/ +line:.*/, "", m); c[t " | " m]++; n++}
    END{for (k in c) printf "%d\t%s\n", c[k], k}' | sort -rn | head -25 \
    | awk -F'\t' '{printf "           JFR %5d samples  %s\n", $1, $2}'
}
several_nodes() { [ "$1" = cluster ] || [ "$1" = apart ]; }
stop_cluster() { stop_node; }
stop_apart() { stop_node; }
node_cpu() { local p t=0; for p in "${NODE_PIDS[@]}"; do t=$(( t + $(ticks "$p") )); done; echo "$t"; }
cluster_cpu() { node_cpu; }
apart_cpu() { node_cpu; }
# CPU ticks of the nodes' JIT compiler threads (C1/C2 CompilerThread, the group "CN
# CompilerThre") between two thread_ticks snapshots: how much of a run the JVM spends
# compiling rather than handling mail (see "warm-up" in bench/README.md).
jit_ticks() { # threads0 threads1
  awk -F'\t' 'NR==FNR{a[$1]=$3; next} $2 == "CN CompilerThre" {t+=$3-a[$1]} END{print t+0}' "$1" "$2"
}

# The nodes' CPU ticks and context switches by thread ("tid, group, ticks, voluntary,
# involuntary" lines; the group is the thread name without its numbers: pekko's dispatchers,
# db-N for H2, Netty's event loops, GC, the JIT compilers), so a run shows where the node's time
# went, not only how much, and how often its threads parked and woke (a voluntary switch is a
# thread that ran out of work and parked) (printed after each node run).
thread_ticks() { # system
  case "$1" in node|cluster|apart) ;; *) return ;; esac
  local p f
  for p in "${NODE_PIDS[@]}"; do
    for f in /proc/"$p"/task/*; do echo "$f"; done
  done | awk '{
    f = $0; c = ""; v = 0; w = 0; s = ""
    getline c < (f "/comm"); close(f "/comm")
    while ((getline l < (f "/status")) > 0) {
      if (l ~ /^voluntary_ctxt_switches:/) { sub(/.*:[ \t]*/, "", l); v = l }
      else if (l ~ /^nonvoluntary_ctxt_switches:/) { sub(/.*:[ \t]*/, "", l); w = l }
    }
    close(f "/status")
    getline s < (f "/stat"); close(f "/stat"); sub(/.*\) /, "", s); split(s, a, " ")
    g = c; gsub(/[-_# ]?[0-9]+$/, "", g); gsub(/[0-9]+/, "N", g); sub(/.*\//, "", f)
    printf "%s\t%s\t%d\t%d\t%d\n", f, g, a[12] + a[13], v, w }'
}

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
source_args() { # count [sessions]
  local a=(-s "${2:-$SESSIONS}" -m "$1" -l "$SIZE" -f sender@client.test -t rcpt@example.net -M client.test)
  [ -n "$REUSE" ] && a+=(-d)
  echo "${a[@]}"
}
# COUNT messages through the system with smtp-source; for a cluster split over its nodes' SMTP
# ports (one smtp-source per node, COUNT/K messages and SESSIONS/K sessions each, started
# together). The status is the last non-zero one of them.
send_load() { # sys count outfile
  local sys=$1 n=$2 out=$3
  if ! several_nodes "$sys"; then
    # shellcheck disable=SC2046
    timeout "$RUN_TIMEOUT" /usr/sbin/smtp-source $(source_args "$n") 127.0.0.1:"$SMTP_PORT" >"$out" 2>&1
    return
  fi
  local k=${#NODE_PORTS[@]} j m s p pids=() rc=0
  for j in $(seq 0 $((k-1))); do
    m=$(( n / k + (j < n % k ? 1 : 0) )); s=$(( SESSIONS / k + (j < SESSIONS % k ? 1 : 0) ))
    [ "$m" -gt 0 ] || continue
    # shellcheck disable=SC2046
    timeout "$RUN_TIMEOUT" /usr/sbin/smtp-source $(source_args "$m" "$s") 127.0.0.1:"${NODE_PORTS[$j]}" >"$out.node$((j+1))" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=$?; done
  cat "$out".node* >"$out" 2>/dev/null || true
  return "$rc"
}
# The "status=sent" lines in each node's log (the node that held the Message entity when it
# was delivered), as "node1=N node2=N ...".
sent_lines() {
  local j out=""
  for j in "${!NODE_DIRS[@]}"; do out+="node$((j+1))=$(grep -c 'status=sent' "${NODE_DIRS[$j]}/node.log" || true) "; done
  echo "${out% }"
}
warm_up() { # sys index [count] -> BASE (the sink's count before the measured batch)
  local count=${3:-$WARMUP}
  BASE=$(sink_count)
  [ "$count" -gt 0 ] || return 0
  local w0=$BASE rest=$count scale=1
  if several_nodes "$1"; then
    # A fresh cluster may answer 451 for a few seconds under load (smtp-source gives up at the
    # first one), so its warm-up starts through AcceptLatency, which counts and goes on: each
    # node gets a tenth of count messages at once (-r far above what it takes), -s/K
    # sessions. The rest comes from smtp-source, as the measured batch does: a JVM warmed by
    # another client's commands still compiles smtpd's paths for smtp-source's in the batch.
    local k=${#NODE_PORTS[@]} j pids=() ok=0 errs=0 v first=$(( (count + 9) / 10 ))
    for j in $(seq 0 $((k-1))); do
      # each of the K nodes takes its messages at about 1/K of one node's speed: the bound grows with K
      "$JAVA_HOME/bin/java" "$root/bench/AcceptLatency.java" -r 100000 -n "$first" -s $(( SESSIONS / k )) -l "$SIZE" \
        --timeout $(( RUN_TIMEOUT * k )) 127.0.0.1:"${NODE_PORTS[$j]}" >"$W/$1-$2-warmup.node$((j+1))" 2>&1 &
      pids+=($!)
    done
    for j in "${pids[@]}"; do wait "$j" || true; done
    for j in $(seq 1 "$k"); do
      v=$(kv ok "$W/$1-$2-warmup.node$j"); ok=$(( ok + ${v:-0} ))
      v=$(kv errors "$W/$1-$2-warmup.node$j"); errs=$(( errs + ${v:-0} ))
    done
    [ "$errs" -eq 0 ] || log "$1 run $2: warm-up: $errs of $(( first * k )) not accepted: refused, or not sent within $(( RUN_TIMEOUT * k )) s ($(grep -h 'error x' "$W/$1-$2-warmup.node"* | sort | uniq -c | tr -s ' ' | tr '\n' ';'))"
    rest=$(( (count - first) * k )) scale=$k
    count=$(( ok + rest ))
  fi
  if [ "$rest" -gt 0 ]; then
    RUN_TIMEOUT=$(( RUN_TIMEOUT * scale )) send_load "$1" "$rest" "$W/$1-$2-warmup.out" \
      || log "$1 run $2: warm-up smtp-source failed: $(tail -3 "$W/$1-$2-warmup.out" | tr '\n' ' ')"
  fi
  await_sink $(( w0 + count )) "$RUN_TIMEOUT" || log "$1 run $2: warm-up not all delivered ($(( $(sink_count) - w0 ))/$count)"
  sleep 0.5
  BASE=$(sink_count)
}
RESULTS="$W/results.tsv" LATRES="$W/latency.tsv"
: >"$RESULTS"; : >"$LATRES"
run_once() { # system index
  local sys=$1 i=$2
  start_sink
  "start_$sys" "$i"
  warm_up "$sys" "$i"; local base=$BASE spread0=""
  several_nodes "$sys" && spread0=$(sent_lines)
  local cpu0 t0 t1 t2 rc=0 cpu1 delivered_ok=1
  thread_ticks "$sys" >"$W/$sys-$i.threads0"
  [ -z "$JFR" ] || jfr_start "$sys"
  local pg0; pg0=$(pg_counts)
  cpu0=$("${sys}_cpu"); local m0; m0=$(machine_ticks); t0=$(now)
  send_load "$sys" "$N" "$W/$sys-$i.out" || rc=$?
  t1=$(now)
  # smtp-source gives up at the first unexpected reply (a 451, say): then not all N can
  # arrive, so do not wait the whole run bound for them (the run counts as failed anyway)
  await_sink $(( base + N )) "$([ "$rc" -eq 0 ] && echo "$RUN_TIMEOUT" || echo 30)" || delivered_ok=0
  t2=$(now); cpu1=$("${sys}_cpu")
  local m1; m1=$(machine_ticks)
  thread_ticks "$sys" >"$W/$sys-$i.threads1"
  local pg1=""; [ -n "$pg0" ] && [ "$sys" != postfix ] && { sleep 1.1; pg1=$(pg_counts); }
  [ -z "$JFR" ] || jfr_stop "$sys" "$i"
  local got=$(( $(sink_count) - base ))
  if [ "$rc" -ne 0 ]; then log "$sys run $i: smtp-source exit $rc: $(grep -h . "$W/$sys-$i.out" | tail -3 | tr '\n' ' ')"; fi
  if [ "$delivered_ok" -ne 1 ]; then log "$sys run $i: only $got of $N delivered within ${RUN_TIMEOUT}s"; fi
  awk -v s="$sys" -v i="$i" -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v c0="$cpu0" -v c1="$cpu1" \
      -v hz="$HZ" -v ok=$(( rc == 0 && delivered_ok == 1 )) -v got="$got" -v j="$(jit_ticks "$W/$sys-$i.threads0" "$W/$sys-$i.threads1")" 'BEGIN{
    acc=n/(t1-t0); del=n/(t2-t0); cpu=(c1-c0)/hz
    printf "%s\t%d\t%.1f\t%.1f\t%.3f\t%.1f\t%d\t%d\t%.1f\n", s, i, acc, del, t2-t0, cpu*1000000/n, ok, got,
      (c1>c0 ? 100*j/(c1-c0) : 0) }' >>"$RESULTS"
  tail -1 "$RESULTS" | awk -F'\t' '{printf "  %-8s run %d: accepted %8.1f msg/s, delivered %8.1f msg/s (%.2f s), CPU %7.1f us/msg%s%s\n",
    $1, $2, $3, $4, $5, $6, ($1=="postfix"?"":sprintf(" (JIT %.0f%%)", $9)), ($7==1?"":"  [FAILED: "$8" delivered]")}'
  awk -v a="$m0" -v b="$m1" -v c0="$cpu0" -v c1="$cpu1" -v n="$N" -v hz="$HZ" 'BEGIN{split(a,x," "); split(b,y," ")
    if (y[2] <= x[2]) exit
    busy=y[1]-x[1]; sys=c1-c0; irq=y[3]-x[3]; pg=y[4]-x[4]; sink=y[5]-x[5]; steal=y[6]-x[6]; k=1000000/hz/n
    printf "           machine busy %.0f%% of the cores (stolen by the hypervisor %.0f%%); CPU us/msg: system measured %.0f, postgres %.0f, smtp-sink %.0f, interrupts %.0f, the rest (smtp-source, kernel threads, bench) %.0f\n",
      100*busy/(y[2]-x[2]), 100*steal/(y[2]-x[2]), sys*k, pg*k, sink*k, irq*k, (busy-sys-pg-sink-irq-steal)*k }'
  [ -z "$pg1" ] || awk -v a="$pg0" -v b="$pg1" -v n="$N" 'BEGIN{split(a,x," "); split(b,y," ")
    printf "           PostgreSQL per message: %.2f transactions, %.2f WAL flushes, %.1f KB of WAL\n", (y[1]-x[1])/n, (y[2]-x[2])/n, (y[3]-x[3])/n/1024 }'
  if [ -s "$W/$sys-$i.threads1" ]; then
    # per thread: a thread started during the run counts whole; one that ended during it
    # loses its ticks since the start (the total above has them)
    awk -F'\t' -v n="$N" -v hz="$HZ" 'NR==FNR{a[$1]=$3; next} {t[$2]+=$3-a[$1]} END{for (g in t) if (t[g]>0) print t[g]*1000000/hz/n "\t" g}' \
      "$W/$sys-$i.threads0" "$W/$sys-$i.threads1" | sort -rn | head -8 \
      | awk -F'\t' '{printf "%s%s %.0f", (NR>1?", ":"           CPU us/msg by thread: "), $2, $1} END{print ""}'
    # context switches per message: how many times a message's work parked and woke a thread
    awk -F'\t' -v n="$N" 'NR==FNR{v[$1]=$4; w[$1]=$5; next} {d=$4-v[$1]; V+=d; W+=$5-w[$1]; g[$2]+=d}
      END{printf "           context switches per message: %.1f voluntary, %.1f involuntary; voluntary by thread:", V/n, W/n
          for (k in g) if (g[k]/n >= 0.5) printf " %s %.1f", k, g[k]/n; print ""}' \
      "$W/$sys-$i.threads0" "$W/$sys-$i.threads1"
  fi
  if [ -n "$spread0" ]; then
    sleep 1 # the last status=sent lines reach the logs
    # measured batch only: the counts now minus the counts after the warm-up
    local spread; spread=$(paste -d' ' <(tr ' ' '\n' <<<"$spread0") <(sent_lines | tr ' ' '\n') \
      | awk '{split($1,a,"="); split($2,b,"="); printf "%s%s=%d", (NR>1?" ":""), a[1], b[2]-a[2]}')
    echo "$i $spread" >>"$W/spread.txt"
    echo "           delivered (status=sent in each node's log, measured batch): $spread"
  fi
  "stop_$sys"
  stop_sink
}

# ---------------------------------------------------------------- --latency: accept latency at a fixed rate
latency_once() { # system index rate
  local sys=$1 i=$2 rate=$3 rc=0 delivered_ok=1 out="$W/latency-$1-$2.out"
  start_sink
  "start_$sys" "$i"
  warm_up "$sys" "$i" "$LAT_WARMUP"; local base=$BASE cpu0 cpu1
  cpu0=$("${sys}_cpu")
  local a=(-r "$rate" -n "$LAT_N" -s "$SESSIONS" -l "$SIZE" -f sender@client.test -t rcpt@example.net -M client.test --timeout "$RUN_TIMEOUT")
  [ -n "$REUSE" ] && a+=(-d)
  "$JAVA_HOME/bin/java" "$root/bench/AcceptLatency.java" "${a[@]}" 127.0.0.1:"$SMTP_PORT" >"$out" 2>"$out.err" || rc=$?
  local ok; ok=$(kv ok "$out"); ok=${ok:-0}
  await_sink $(( base + ok )) "$RUN_TIMEOUT" || delivered_ok=0
  cpu1=$("${sys}_cpu")
  [ "$rc" -eq 0 ] || log "$sys run $i: AcceptLatency exit $rc: $(tail -3 "$out.err" | tr '\n' ' ')"
  [ "$delivered_ok" -eq 1 ] || log "$sys run $i: only $(( $(sink_count) - base )) of $ok delivered within ${RUN_TIMEOUT}s"
  printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n' "$sys" "$i" "$rate" "$(kv p50_ms "$out")" "$(kv p90_ms "$out")" \
    "$(kv p99_ms "$out")" "$(kv max_ms "$out")" "$(kv lag_p99_ms "$out")" "$(kv rate_offered "$out")" "$ok" "$(kv errors "$out")" \
    $(( rc == 0 && delivered_ok == 1 )) "$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$HZ" -v n="$LAT_N" 'BEGIN{printf "%.1f", (b-a)/hz*1000000/n}')" >>"$LATRES"
  tail -1 "$LATRES" | awk -F'\t' '{printf "  %-8s run %d: %s msg/s asked (%s offered): accept latency p50 %s ms, p90 %s, p99 %s, max %s; lag p99 %s ms; %d ok, %s errors; CPU %s us/msg%s\n",
    $1, $2, $3, $9, $4, $5, $6, $7, $8, $10, $11, $13, ($12==1?"":"  [FAILED]")}'
  "stop_$sys"
  stop_sink
}

# ---------------------------------------------------------------- --deferred: a large deferred queue
# The node's heap after a full GC (jcmd GC.run, then GC.heap_info), in KB.
heap_used_kb() {
  "$JAVA_HOME/bin/jcmd" "$NODE_PID" GC.run >/dev/null 2>&1 || true
  "$JAVA_HOME/bin/jcmd" "$NODE_PID" GC.heap_info 2>/dev/null | grep -o 'used [0-9]*K' | head -1 | tr -dc 0-9
}
healthy_rate() { # label [count, default N] -> prints and sets RATE (delivered msg/s of the healthy messages)
  local base t0 t1 n=${2:-$N}; base=$(sink_count); t0=$(now)
  # shellcheck disable=SC2046
  timeout "$RUN_TIMEOUT" /usr/sbin/smtp-source $(source_args "$n") 127.0.0.1:"$SMTP_PORT" >"$W/healthy-$1.out" 2>&1 \
    || log "healthy $1: smtp-source failed: $(tail -3 "$W/healthy-$1.out" | tr '\n' ' ')"
  await_sink $(( base + n )) "$RUN_TIMEOUT" || log "healthy $1: only $(( $(sink_count) - base )) of $n delivered"
  t1=$(now); RATE=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", n/(b-a)}')
  printf '  healthy mail %-28s %8s msg/s delivered (%d messages)\n' "$1:" "$RATE" "$n"
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
  # As in the other modes, -w messages first: "before" is the node at steady state, not its JIT's first minutes.
  if [ "$WARMUP" -gt 0 ]; then healthy_rate "warm-up" "$WARMUP"; fi
  healthy_rate "before"; local before=$RATE
  local heap0; heap0=$(heap_used_kb)
  local t0 t1; t0=$(now)
  timeout "$RUN_TIMEOUT" /usr/sbin/smtp-source -s "$SESSIONS" -m "$DEFERRED" -l "$SIZE" -f sender@client.test \
    -t rcpt@dead.test -M client.test 127.0.0.1:"$SMTP_PORT" >"$W/deferred.out" 2>&1 || log "deferred load: smtp-source failed: $(tail -3 "$W/deferred.out")"
  t1=$(now)
  local deadline=$(( $(date +%s) + RUN_TIMEOUT ))
  until [ "$(grep -c 'status=deferred' "$W/node-deferred/node.log")" -ge "$DEFERRED" ] || [ "$(date +%s)" -ge "$deadline" ]; do sleep 5; done
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

# JAVA_HOME as bin/mta finds it (JDK 21+), for bench/AcceptLatency.java and jcmd.
JAVA_HOME="$(prog=bench/run.sh; . "$root/bin/lib.sh" >/dev/null; echo "$JAVA_HOME")"
[ -x "$JAVA_HOME/bin/java" ] || { echo "bench: no JDK 21+ found (set JAVA_HOME)" >&2; exit 1; }

systems=()
if [ "$NODES" -gt 1 ]; then
  systems=(cluster node); [ -n "$APART" ] && systems=(cluster apart node)
else
  [ "$ONLY" != postfix ] && systems+=(node)
  [ "$ONLY" != node ] && systems+=(postfix)
fi
[ "$ONLY" != postfix ] && prepare_node

label() {
  case "$1" in
    node) echo "node ($JOURNAL journal)" ;;
    cluster) echo "$NODES nodes ($JOURNAL journal)" ;;
    apart) echo "$NODES nodes apart (no cluster)" ;;
    postfix) echo "postfix $(postconf -h mail_version 2>/dev/null)" ;;
  esac
}
# alternate the order, so that neither side always runs on a warmer machine
alternating() { # function runs systems... : calls "function sys i" for each run i
  local fn=$1 runs=$2 i k s; shift 2
  local sys=("$@") order
  for i in $(seq 1 "$runs"); do
    if [ $(( i % 2 )) -eq 1 ]; then order=("${sys[@]}"); else order=(); for (( k=${#sys[@]}-1; k>=0; k-- )); do order+=("${sys[$k]}"); done; fi
    for s in "${order[@]}"; do "$fn" "$s" "$i"; done
  done
}
median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2} }'; }
col() { awk -F'\t' -v s="$1" -v c="$2" '$1==s && $7==1 {print $c}' "$RESULTS" | median; }
ratio_label() { case "$1" in cluster) echo "$NODES nodes" ;; apart) echo "$NODES apart" ;; node) echo "1 node" ;; *) echo "$1" ;; esac; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a>0 && b>0) printf "%.2f", a/b; else printf "n/a" }'; }
throughput_summary() { # systems...
  echo
  echo "medians over successful runs (accepted = smtp-source done; delivered = all $N counted by the sink):"
  printf '  %-28s %14s %14s %14s %6s\n' system "accepted/s" "delivered/s" "CPU us/msg" runs
  local sys okruns
  for sys in "$@"; do
    okruns=$(awk -F'\t' -v s="$sys" '$1==s && $7==1' "$RESULTS" | wc -l)
    printf '  %-28s %14s %14s %14s %3d/%d\n' "$(label "$sys")" "$(col "$sys" 3)" "$(col "$sys" 4)" "$(col "$sys" 6)" "$okruns" "$RUNS"
  done
  local pairs=()
  [ "$#" -eq 2 ] && pairs=("$1 $2")
  [ "$#" -eq 3 ] && pairs=("$1 $3" "$1 $2" "$2 $3") # cluster/node, cluster/apart, apart/node
  local a b
  for pair in "${pairs[@]}"; do
    read -r a b <<<"$pair"
    printf '  ratio %s:   accepted %s, delivered %s, CPU per message %s\n' "$(ratio_label "$a")/$(ratio_label "$b")" \
      "$(ratio "$(col "$a" 3)" "$(col "$b" 3)")" "$(ratio "$(col "$a" 4)" "$(col "$b" 4)")" "$(ratio "$(col "$a" 6)" "$(col "$b" 6)")"
  done
  if [ -s "$W/spread.txt" ]; then
    echo "  delivery spread over the nodes (status=sent lines per node log, measured batches):"
    sed 's/^\([0-9]*\) /    run \1: /' "$W/spread.txt"
  fi
}

echo "bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: $N messages x $SIZE bytes, $SESSIONS sessions$([ -n "$REUSE" ] && echo ', connections reused'), $RUNS runs each, warm-up $WARMUP; node journal: $JOURNAL$([ "$NODES" -gt 1 ] && echo "; $NODES nodes in one cluster$([ -n "$APART" ] && echo ", $NODES apart") vs 1 node"); $(nproc) cores"
t_start=$(date +%s)

if [ -z "$LATENCY" ]; then
  alternating run_once "$RUNS" "${systems[@]}"
  throughput_summary "${systems[@]}"
else
  # Peak of each system: --rate (both), --peak-SYS, or the median accepted/s of throughput runs now.
  measure=()
  for sys in "${systems[@]}"; do
    pk="PEAK_$sys"; [ -z "$RATE" ] && [ -z "${!pk}" ] && measure+=("$sys")
  done
  if [ "${#measure[@]}" -gt 0 ]; then
    echo "peak load: throughput runs of $(printf '%s ' "${measure[@]}")(-n $N)"
    alternating run_once "$RUNS" "${measure[@]}"
    throughput_summary "${measure[@]}"
    for sys in "${measure[@]}"; do printf -v "PEAK_$sys" '%s' "$(col "$sys" 3)"; done
  fi
  declare -A RATE_OF
  echo
  for sys in "${systems[@]}"; do
    pk="PEAK_$sys"
    if [ -n "$RATE" ]; then RATE_OF[$sys]=$RATE
    else RATE_OF[$sys]=$(awk -v p="${!pk}" -v f="$LOAD" 'BEGIN{ if (p>0) printf "%.1f", p*f; else print "" }'); fi
    [ -n "${RATE_OF[$sys]}" ] || { echo "bench: no peak for $sys (its throughput runs failed)" >&2; exit 1; }
    echo "accept latency of $(label "$sys"): ${RATE_OF[$sys]} msg/s offered$([ -z "$RATE" ] && echo " = $LOAD x peak ${!pk} msg/s"), $LAT_N messages, $SESSIONS sessions, after $LAT_WARMUP warm-up messages"
  done
  latency_sys() { latency_once "$1" "$2" "${RATE_OF[$1]}"; }
  alternating latency_sys "$RUNS" "${systems[@]}"
  lcol() { awk -F'\t' -v s="$1" -v c="$2" '$1==s && $12==1 {print $c}' "$LATRES" | median; }
  echo
  echo "accept latency (end of DATA to 250), medians over successful runs:"
  printf '  %-28s %9s %9s %9s %9s %9s %9s %11s %6s\n' system "msg/s" offered "p50 ms" "p90 ms" "p99 ms" "max ms" "lag p99 ms" runs
  for sys in "${systems[@]}"; do
    okruns=$(awk -F'\t' -v s="$sys" '$1==s && $12==1' "$LATRES" | wc -l)
    printf '  %-28s %9s %9s %9s %9s %9s %9s %11s %3d/%d\n' "$(label "$sys")" "${RATE_OF[$sys]}" "$(lcol "$sys" 9)" \
      "$(lcol "$sys" 4)" "$(lcol "$sys" 5)" "$(lcol "$sys" 6)" "$(lcol "$sys" 7)" "$(lcol "$sys" 8)" "$okruns" "$RUNS"
  done
  if [ "${#systems[@]}" -eq 2 ]; then
    printf '  ratio node/postfix:   p50 %s, p90 %s, p99 %s\n' "$(ratio "$(lcol node 4)" "$(lcol postfix 4)")" \
      "$(ratio "$(lcol node 5)" "$(lcol postfix 5)")" "$(ratio "$(lcol node 6)" "$(lcol postfix 6)")"
  fi
fi
echo "bench: done in $(( $(date +%s) - t_start ))s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
failed=$(( $(awk -F'\t' '$7!=1' "$RESULTS" | wc -l) + $(awk -F'\t' '$12!=1' "$LATRES" | wc -l) ))
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Runs Redis 7.0.15's own test suite (its tests/ directory, fetched from Debian's
# source package, never committed here) against this build of Mnemo: the suite
# starts `src/redis-server`, which here is a wrapper around dist/src/bin/mnemo-server.js;
# redis-cli, redis-benchmark and the check tools are the real ones (redis-tools).
#
#   npm run test:redis-suite                      # every unit/* file, slow tests skipped
#   npm run test:redis-suite -- unit/type/list    # chosen units (unit/... or integration/...)
#   REDIS_SUITE_TAGS= npm run test:redis-suite -- unit/querybuf   # slow tests too
#   npm run test:redis-suite -- sentinel          # the Sentinel suite (tests/sentinel) against mnemo-sentinel
#   npm run test:redis-suite -- sentinel --single 12-master-reboot
#
# Needs curl, tclsh (apt-get install -y tcl) and redis-tools. One summary line per unit
# goes to stdout; each unit's full log is in $REDIS_SUITE_DIR/logs/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${REDIS_SUITE_DIR:-$ROOT/.redis-suite}"
VERSION=7.0.15
TARBALL_URL="${REDIS_SUITE_URL:-http://deb.debian.org/debian/pool/main/r/redis/redis_${VERSION}.orig.tar.gz}"
TAGS="${REDIS_SUITE_TAGS--slow}"
BASEPORT="${REDIS_SUITE_BASEPORT:-21111}"

for tool in curl tclsh redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "redis-suite: $tool is missing (apt-get install -y curl tcl redis-tools)" >&2; exit 2; }
done

if [ ! -d "$DIR/redis-$VERSION/tests" ]; then
  mkdir -p "$DIR"
  curl -fsSL "$TARBALL_URL" -o "$DIR/redis.tar.gz"
  tar -xzf "$DIR/redis.tar.gz" -C "$DIR" "redis-$VERSION/tests" "redis-$VERSION/runtest"
fi
if [ ! -f "$DIR/redis-$VERSION/runtest-sentinel" ]; then
  tar -xzf "$DIR/redis.tar.gz" -C "$DIR" "redis-$VERSION/runtest-sentinel"
fi
TREE="$DIR/redis-$VERSION"
mkdir -p "$TREE/src" "$DIR/logs"
printf '#!/bin/sh\nexec node "%s/dist/src/bin/mnemo-server.js" "$@"\n' "$ROOT" > "$TREE/src/redis-server"
printf '#!/bin/sh\nexec node "%s/dist/src/bin/mnemo-sentinel.js" "$@"\n' "$ROOT" > "$TREE/src/redis-sentinel"
chmod +x "$TREE/src/redis-server" "$TREE/src/redis-sentinel"
for t in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
  if command -v "$t" >/dev/null; then ln -sf "$(command -v "$t")" "$TREE/src/$t"; fi
done

if [ "${1:-}" = "sentinel" ]; then
  # Sentinels on ports from 20000, data nodes from 30000 (tests/instances.tcl); one summary line.
  shift
  cd "$TREE"
  log="$DIR/logs/sentinel.log"
  rc=0
  timeout 2400 ./runtest-sentinel "$@" > "$log" 2>&1 || rc=$?
  ok=$(grep -c ': .*OK' "$log" || true)
  failed=$(grep -c ': .*FAILED' "$log" || true)
  echo "sentinel ok=$ok failed=$failed rc=$rc (log: $log)"
  [ "$failed" -eq 0 ]
  exit $?
fi

units=("$@")
if [ ${#units[@]} -eq 0 ]; then
  mapfile -t units < <(sed -n '/set ::all_tests/,/^}/p' "$TREE/tests/test_helper.tcl" | grep -E '^\s+unit/' | tr -d ' ')
fi

cd "$TREE"
status=0
for u in "${units[@]}"; do
  log="$DIR/logs/$(echo "$u" | tr / _).log"
  args=(--single "$u" --clients 1 --baseport "$BASEPORT" --portcount 500 --timeout 120)
  [ -n "$TAGS" ] && args+=(--tags "$TAGS")
  rc=0
  timeout 900 ./runtest "${args[@]}" > "$log" 2>&1 || rc=$?
  [ $rc -ne 0 ] && status=1
  ok=$(grep -c '^\[.*ok.*\]:' "$log" || true)
  err=$(grep -c '^\[.*err.*\]:' "$log" || true)
  exc=$(grep -c '^\[.*exception.*\]' "$log" || true)
  echo "$u ok=$ok err=$err exception=$exc rc=$rc"
done
exit $status

#!/usr/bin/env bash
# make tempest: run Tempest's compute API tests against Kova and compare with real Nova.
#
#  1. installs Debian's tempest if it is missing;
#  2. starts Kova on a local control plane (bin/localcp, as `make run` does) in a fresh data
#     folder, its direct endpoint on $TEMPEST_KOVA_ADDRESS (loopback);
#  3. declares Tempest's accounts, flavors and images in it and writes tempest.conf
#     (hack/tempest, Go);
#  4. runs the selection (TEMPEST_REGEX) with --concurrency 2;
#  5. summarises (summarize.py) into $WS/results.txt and lists which of the tests real Nova
#     passes (results-nova-zed.txt) do not pass on Kova;
#  6. stops Kova.
# Everything stays on loopback. Output: $TEMPEST_WS (default .tempest in the repository).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/hack/tempest
WS=${TEMPEST_WS:-$ROOT/.tempest}
ADDR=${TEMPEST_KOVA_ADDRESS:-127.0.0.1:18774}
REGEX=${TEMPEST_REGEX:-'^tempest\.api\.compute\.(servers|keypairs|flavors|images|limits|quotas)'}
CONCURRENCY=${TEMPEST_CONCURRENCY:-2}
# Debian's python has subunit and testtools (a pyenv python3 earlier in PATH may not).
PY=/usr/bin/python3

case ${ADDR%:*} in
127.*|localhost|\[::1\]) ;;
*) echo "TEMPEST_KOVA_ADDRESS must be on loopback, not $ADDR" >&2; exit 2 ;;
esac

if ! command -v tempest >/dev/null; then
    echo "installing Debian's tempest package"
    apt-get install -y --no-install-recommends tempest >/dev/null || {
        apt-get update >/dev/null && apt-get install -y --no-install-recommends tempest >/dev/null; }
fi

# $WS/kova: Kova's data, fresh each run (an aborted run leaves servers behind);
# $WS/tempest: Tempest's workspace (tempest init wants a new folder).
DATA=$WS/kova
TWS=$WS/tempest
mkdir -p "$WS"
rm -rf "$DATA" "$TWS/tempest_lock"
if [ ! -f "$TWS/.stestr.conf" ]; then
    (cd "$WS" && tempest init --workspace-path "$WS/workspace.yaml" "$TWS" >/dev/null)
fi
# An aborted run leaves its account locks behind; with them Tempest finds too few accounts.
mkdir -p "$TWS/logs" "$TWS/tempest_lock"

echo "starting Kova (logs: $WS/localcp.log)"
# The simulated driver's default step latency, so that tasks take time as a cloud's do (a
# snapshot is SAVING for a while); no debug server; no shared networks: each project has
# its own (hack/tempest), so a boot naming none gets it.
"$ROOT/bin/localcp" --bin-dir "$ROOT/bin" --manager "$ROOT/bin/manager" --nova-api "$ROOT/bin/nova-api" \
    --config-dir "$ROOT/config" --data-dir "$DATA" --nova-api-direct-address "$ADDR" \
    --sim-debug-address= --shared-networks=none >"$WS/localcp.log" 2>&1 &
KOVA=$!
stop_kova() {
    kill -INT "$KOVA" 2>/dev/null && wait "$KOVA" 2>/dev/null || true
}
trap stop_kova EXIT

# localcp writes the demo clouds.yaml last, once nova-api serves and its users exist.
for _ in $(seq 300); do
    [ -f "$DATA/demo/clouds.yaml" ] && break
    kill -0 "$KOVA" 2>/dev/null || { echo "localcp exited; see $WS/localcp.log" >&2; exit 1; }
    sleep 1
done
[ -f "$DATA/demo/clouds.yaml" ] || { echo "Kova did not start in 300 s; see $WS/localcp.log" >&2; exit 1; }

(cd "$ROOT" && go run ./hack/tempest --kubeconfig "$DATA/kubeconfig" --endpoint "https://$ADDR" \
    --ca-file "$DATA/nova-api/nova-api.crt" --workspace "$TWS")

echo "running tempest: $REGEX (concurrency $CONCURRENCY)"
cd "$TWS"
rc=0
tempest run --config-file etc/tempest.conf --regex "$REGEX" --concurrency "$CONCURRENCY" >"$WS/tempest-run.log" 2>&1 || rc=$?
tail -n 8 "$WS/tempest-run.log"
stestr last --subunit >"$WS/run.subunit"
TRACEBACKS=$WS/failures-tracebacks.txt $PY "$HERE/summarize.py" --baseline "$HERE/results-nova-zed.txt" \
    <"$WS/run.subunit" >"$WS/results.txt"
sed -n '/^COUNTS/,/^ALL RESULTS/p' "$WS/results.txt" | sed '$d'
echo "results: $WS/results.txt; tracebacks: $WS/failures-tracebacks.txt; tempest exit status $rc"

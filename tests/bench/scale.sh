#!/usr/bin/env bash
# `cutover watch` against two kmock APIs of N pods a side (the test harness's
# realistic seed plus generated Deployments), whole process, in tmux at 120x32:
#  - time from launch to the first workload rows of both sides on screen;
#  - resident memory once settled, and its peak;
#  - CPU used while nobody touches anything;
#  - time from a pod change made through the harness (a restart count written
#    with POST /kube/old/apply) to the changed count on screen, the screen
#    read back every few milliseconds.
# Usage: tests/bench/scale.sh [PODS] [IDLE_SECONDS] [BINARY]
# HARNESS_FLAGS=--whole-lists answers lists whole (ignoring `limit`), as the
# emulator did before it paged.
set -euo pipefail
cd "$(dirname "$0")/../.."
pods=${1:-20000}; secs=${2:-60}; bin=${3:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -q
  bin=$PWD/target/release/cutover
fi
py=$PWD/.venv/bin/python
dir=$(mktemp -d)
sock="cutover-scale-$$"
hpid=""
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; [ -n "$hpid" ] && kill "$hpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
tck=$(getconf CLK_TCK)

s0=$(date +%s.%N)
"$py" tests/harness/peers.py --dir "$dir" --pods "$pods" ${HARNESS_FLAGS:-} --ignore-stdin >"$dir/out" 2>&1 &
hpid=$!
until grep -q '^READY' "$dir/out" 2>/dev/null; do
  kill -0 "$hpid" 2>/dev/null || { cat "$dir/out" "$dir/peers.log" >&2; exit 1; }
  sleep 0.2
done
s1=$(date +%s.%N)
control=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "$dir/peers.json")
awk -v a="$s0" -v b="$s1" -v p="$pods" 'BEGIN { printf "harness seeded with %d pods a side in %.1f s\n", p, b - a }'

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
t0=$(date +%s.%N)
tmux -L "$sock" new-session -d -x 120 -y 32 \
  "XDG_STATE_HOME=$dir/state AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing exec $bin watch --plan $dir/plan.toml"
# First rows: the api Deployment's row with its pods on both sides (6 a side).
until tmux -L "$sock" capture-pane -p | grep -E 'app/api .*6/6.*6/6' -q; do sleep 0.01; done
t1=$(date +%s.%N)
pid=$(tmux -L "$sock" list-panes -F '#{pane_pid}')
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "first rows of both sides on screen after launch: %.2f s\n", b - a }'

# Settled: every pod listed (the resident set stops growing for 3 s).
last=0; same=0
while [ "$same" -lt 15 ]; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  if [ "$rss" -eq "$last" ]; then same=$((same + 1)); else same=0; last=$rss; fi
  sleep 0.2
done
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t2" 'BEGIN { printf "settled (resident set steady for 3 s) after launch: %.1f s\n", b - a - 3 }'
awk '/VmRSS|VmHWM/ {printf "%s %.0f MB\n", $1, $2 / 1024}' "/proc/$pid/status"

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
c0=$(cpu); w0=$(date +%s.%N)
sleep "$secs"
c1=$(cpu); w1=$(date +%s.%N)
awk -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v tck="$tck" \
  'BEGIN { printf "idle CPU over %.0f s: %.2f%% of one core (%.2f s CPU)\n", w1 - w0, (c1 - c0) / tck / (w1 - w0) * 100, (c1 - c0) / tck }'

# A watch event on screen: one api pod's restart count set and set back.
"$py" - "$dir/peers.json" "$sock" <<'PY'
import json, statistics, subprocess, sys, time, urllib.request
peers, sock = json.load(open(sys.argv[1])), sys.argv[2]
def call(url, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))
def api_row():
    screen = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True, text=True).stdout
    return next((l for l in screen.splitlines() if "app/api " in l), "")
# One of the api Deployment's pods, read from the old side's API itself.
pod = call(peers["old"] + "/api/v1/namespaces/app/pods?labelSelector=app%3Dapi")["items"][0]
samples, reads = [], 0
for i in range(6):
    restarts = 777 if i % 2 == 0 else 0
    pod["status"]["containerStatuses"][0]["restartCount"] = restarts
    pod["metadata"].pop("resourceVersion", None)
    t = time.monotonic()
    call(peers["control"] + "/kube/old/apply", pod)
    while True:
        row = api_row()
        reads += 1
        if row and (("777" in row) == bool(restarts)):
            break
        if time.monotonic() - t > 10:
            sys.exit("the change did not show within 10 s: " + row.strip())
    samples.append((time.monotonic() - t) * 1000)
    time.sleep(1)
per_read = sum(samples) / reads
print("pod change to screen: median %.0f ms, max %.0f ms over %d changes (screen read every %.1f ms)" % (
    statistics.median(samples), max(samples), len(samples), per_read))
PY
awk '/VmRSS|VmHWM/ {printf "after the changes: %s %.0f MB\n", $1, $2 / 1024}' "/proc/$pid/status"

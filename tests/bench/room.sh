#!/usr/bin/env bash
# A war room on this machine: the test harness's two Kubernetes APIs of PODS
# pods a side and its AWS, one `cutover relay` publishing to a local
# nats-server, and FOLLOWERS `cutover follow` processes, each in a tmux window
# at 120x32. Measures:
#  - AWS and Kubernetes requests a minute, with the relay alone and with the
#    followers all following (they should be the same: followers read only
#    the broker);
#  - each follower's join time: launch to the api Deployment's row of both
#    sides on its screen, and `● LIVE`;
#  - a pod change (a restart count written through the harness) to a
#    follower's copy of the session: one more follower (`cargo bench --bench
#    room`, the same reading code as `cutover follow`) notes when each of
#    CHANGES marked changes arrives, with the other followers all following;
#  - the relay's CPU and memory with the followers, and theirs.
# Usage: tests/bench/room.sh [PODS] [FOLLOWERS] [CHANGES] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
pods=${1:-500}; followers=${2:-50}; changes=${3:-200}; bin=${4:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -q
  bin=$PWD/target/release/cutover
fi
cargo bench --no-run --bench room -q 2>/dev/null
probe=$(ls -t target/release/deps/room-* | grep -v '\.d$' | head -1)
py=$PWD/.venv/bin/python
dir=$(mktemp -d)
sock="cutover-room-$$"
pids=()
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$dir"' EXIT
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
mem() { awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {printf "%.0f MB (peak %.0f MB)", r / 1024, h / 1024}' "/proc/$1/status"; }

"$py" tests/harness/peers.py --dir "$dir" --pods "$pods" --ignore-stdin >"$dir/out" 2>&1 &
pids+=($!)
until grep -q '^READY' "$dir/out" 2>/dev/null; do
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$dir/out" >&2; exit 1; }
  sleep 0.2
done
control=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "$dir/peers.json")
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/nats-server -js -a 127.0.0.1 -p "$port" -sd "$dir/nats" >"$dir/nats.log" 2>&1 &
pids+=($!); nats_pid=$!
url="nats://127.0.0.1:$port"
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.1; done

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
XDG_STATE_HOME="$dir/state" "$bin" relay --plan "$dir/plan.toml" --share "$url" 2>"$dir/relay.log" &
pids+=($!); relay=$!
until "$bin" sessions "$url" 2>/dev/null | grep -q ' live'; do
  kill -0 "$relay" 2>/dev/null || { cat "$dir/relay.log" >&2; exit 1; }
  sleep 0.5
done
sleep 10
echo "relay publishing: $pods pods a side"

requests() { # per peer, over SECS: the count of requests that reached it
  curl -s -X POST "$control/requests/clear" >/dev/null
  sleep "$1"
  for peer in aws old new; do
    curl -s "$control/requests?peer=$peer" | "$py" -c '
import collections, json, sys
reqs = json.load(sys.stdin)
ops = collections.Counter(r.get("op") or r.get("method", "?") for r in reqs)
print("%s %d (%s)" % (sys.argv[1], len(reqs), ", ".join("%s %d" % kv for kv in sorted(ops.items()))), end="; ")' "$peer"
  done
  echo
}
echo "requests in 60 s, the relay alone:            $(requests 60)"

# The followers, each in a window of its own, launched one after the other.
tmux -L "$sock" new-session -d -x 120 -y 32 -s room "sleep 100000"
joined() { tmux -L "$sock" capture-pane -p -t "room:$1" | grep -E 'app/api .*6/6.*6/6' -q &&
           tmux -L "$sock" capture-pane -p -t "room:$1" | grep -q '● LIVE'; }
joins=()
for i in $(seq 1 "$followers"); do
  t0=$(date +%s.%N)
  tmux -L "$sock" new-window -d -t "room:$i" "XDG_STATE_HOME=$dir/state exec $bin follow $url"
  until joined "$i"; do sleep 0.02; done
  t1=$(date +%s.%N)
  joins+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')")
done
printf '%s\n' "${joins[@]}" | sort -n | awk '{ a[NR] = $1 } END {
  printf "follower join (launch to both sides'"'"' rows and LIVE on its screen), %d followers: median %d ms, max %d ms\n", NR, a[int((NR + 1) / 2)], a[NR] }'

c0=$(cpu "$relay"); n0=$(cpu "$nats_pid"); w0=$(date +%s.%N)
echo "requests in 60 s, relay and $followers followers: $(requests 60)"
c1=$(cpu "$relay"); n1=$(cpu "$nats_pid"); w1=$(date +%s.%N)
awk -v c0="$c0" -v c1="$c1" -v n0="$n0" -v n1="$n1" -v w0="$w0" -v w1="$w1" -v tck="$tck" \
  'BEGIN { printf "over that minute: relay %.2f%% of one core, nats-server %.2f%%\n", (c1 - c0) / tck / (w1 - w0) * 100, (n1 - n0) / tck / (w1 - w0) * 100 }'
echo "relay memory: $(mem "$relay"); nats-server: $(mem "$nats_pid")"
fpids=$(tmux -L "$sock" list-panes -s -t room -F '#{pane_pid}' | tail -n +2)
printf '%s\n' $fpids | while read -r p; do awk '/VmRSS/ {print $2}' "/proc/$p/status"; done | sort -n |
  awk '{ a[NR] = $1 } END { printf "follower memory: median %.0f MB, max %.0f MB\n", a[int((NR + 1) / 2)] / 1024, a[NR] / 1024 }'

# Marked changes while everyone follows: the probe notes when each arrives.
"$probe" "$url" $((changes / 4 + 20)) "$dir/seen" &
probe_pid=$!
sleep 3
"$py" - "$dir/peers.json" "$changes" "$dir/sent" <<'PY'
import json, sys, time, urllib.request
peers, n, out = json.load(open(sys.argv[1])), int(sys.argv[2]), open(sys.argv[3], "w")
def call(url, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))
pod = call(peers["old"] + "/api/v1/namespaces/app/pods?labelSelector=app%3Dapi")["items"][0]
for i in range(n):
    pod["status"]["containerStatuses"][0]["restartCount"] = 4242000 + i
    pod["metadata"].pop("resourceVersion", None)
    out.write("%d %d\n" % (4242000 + i, int(time.time() * 1000)))
    call(peers["control"] + "/kube/old/apply", pod)
    time.sleep(0.25)
out.close()
PY
wait "$probe_pid"
"$py" - "$dir/sent" "$dir/seen" <<'PY'
import sys
sent = dict(map(int, l.split()) for l in open(sys.argv[1]))
seen = {}
for l in open(sys.argv[2]):
    v, t = map(int, l.split())
    seen.setdefault(v, t)
d = sorted(seen[v] - t for v, t in sent.items() if v in seen)
if not d:
    sys.exit("no marked change reached the probe")
q = lambda p: d[min(len(d) - 1, int(p * len(d)))]
print("pod change (harness write) to a follower's copy: p50 %d ms, p99 %d ms, max %d ms over %d of %d changes" % (
    q(0.5), q(0.99), d[-1], len(d), len(sent)))
PY

#!/usr/bin/env bash
# Whole-process figures of `cutover demo` in a real terminal (tmux):
#  - time from launch to the first frame with every panel filled;
#  - CPU used while nobody touches anything (the demo world still moves:
#    clock ticks, ALB reads every 5 s, datapoints every minute);
#  - peak resident memory.
# Usage: tests/bench/idle.sh [SECONDS] [extra demo flags...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}; shift || true
cargo build --release --locked -q
bin=$PWD/target/release/cutover
sock="cutover-idle-$$"
state=$(mktemp -d)
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$state"' EXIT
tck=$(getconf CLK_TCK)

t0=$(date +%s.%N)
tmux -L "$sock" new-session -d -x 120 -y 32 "XDG_STATE_HOME=$state exec $bin demo $*"
until tmux -L "$sock" capture-pane -p | grep -q "req/m" && tmux -L "$sock" capture-pane -p | grep -q "app/api"; do sleep 0.02; done
t1=$(date +%s.%N)
pid=$(tmux -L "$sock" list-panes -F '#{pane_pid}')
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
sleep 3
c0=$(cpu); w0=$(date +%s.%N)
sleep "$secs"
c1=$(cpu); w1=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "first full frame after launch: %.0f ms\n", (b - a) * 1000 }'
awk -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v tck="$tck" \
  'BEGIN { printf "idle CPU over %.0f s: %.2f%% of one core (%.2f s CPU)\n", w1 - w0, (c1 - c0) / tck / (w1 - w0) * 100, (c1 - c0) / tck }'
echo "peak resident memory: $hwm"

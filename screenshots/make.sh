#!/usr/bin/env bash
# Regenerates screenshots/*.png from the real demo in a real terminal:
# tmux runs `cutover demo`, capture-pane keeps the colours, aha turns the
# ANSI into HTML, and headless Chromium renders the HTML to PNG.
#
# Needs: tmux, aha, chromium, fonts-dejavu-core (apt-get install -y tmux aha chromium fonts-dejavu-core)
# Usage: screenshots/make.sh            (builds the release binary first)
#        CUTOVER_BIN=path screenshots/make.sh
#        screenshots/make.sh report     (only screenshots/report.png; REPORT_MD=FILE keeps its Markdown)
#        screenshots/make.sh verdicts   (only verdicts.png, verdict-band.png, autopilot.png)
#        screenshots/make.sh lifecycle  (only why-502.png, check-risks.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out=screenshots
bin=${CUTOVER_BIN:-target/release/cutover}
[ -n "${CUTOVER_BIN:-}" ] || cargo build --release --locked
for tool in tmux aha chromium; do
  command -v "$tool" >/dev/null || { echo "screenshots: $tool is missing (apt-get install -y tmux aha chromium fonts-dejavu-core)" >&2; exit 2; }
done

cols=120 rows=32
sock="cutover-shots-$$"
work=$(mktemp -d)
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

t() { tmux -L "$sock" "$@"; }

# The postmortem report of a ten-minute demo session (at ten times speed):
# a step of api to 50%, where the demo's new build is bad, failed by its
# analysis and reverted by the console itself; a handoff of the scheduler
# with the typed override; www stepped by its autopilot; `cutover report
# --format html` of its recording, in Chromium.
report_shot() {
  t kill-session -t shots 2>/dev/null || true
  mkdir -p "$work/report"
  local rec="$work/report/session.jsonl"
  t new-session -d -x 160 -y 45 -s shots "XDG_STATE_HOME=$work/report $bin demo --seed 2026 --speed 10 --record $rec"
  t set -g status off
  wait_for "req/m" 10
  local started=$SECONDS
  confirm() { keys y; sleep 0.5; if t capture-pane -p -t shots | grep -qF "PROPOSAL"; then keys Y; fi; }
  sleep 6
  keys BTab "]"; wait_for "PROPOSAL: route api" 5; confirm
  wait_for "read 50/50" 30
  wait_for "AUTO-REVERT route api" 60
  wait_for "read 75/25" 30
  sleep 3
  keys Tab Down Down Down Down Down h
  wait_for "type \`override\`" 5
  t send-keys -t shots -l override
  keys Enter
  wait_for "nothing running" 30
  # Ten simulated minutes in all.
  while [ $(( SECONDS - started )) -lt 62 ]; do sleep 1; done
  keys q
  for _ in $(seq 1 50); do [ -s "$rec" ] && ! t has-session -t shots 2>/dev/null && break; sleep 0.2; done
  "$bin" report "$rec" --format html -o "$work/report/report.html"
  "$bin" report "$rec" -o "$work/report/report.md"
  # The summary and the first route's chart.
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chromium" --hide-scrollbars --window-size=1100,2045 \
    --screenshot="$PWD/$out/report.png" "file://$work/report/report.html" >/dev/null 2>&1
  echo "wrote $out/report.png"
  if [ -n "${REPORT_MD:-}" ]; then cp "$work/report/report.md" "$REPORT_MD"; fi
}
t new-session -d -x "$cols" -y "$rows" -s shots "XDG_STATE_HOME=$work $bin demo --seed 2026"
t set -g escape-time 0
t set -g status off

wait_for() { # text, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do
    t capture-pane -p -t shots | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "screenshots: '$1' did not appear" >&2; t capture-pane -p -t shots >&2; exit 1
}
keys() { for k in "$@"; do t send-keys -t shots "$k"; sleep 0.3; done; }

shoot() { # name [rows] [cols]
  grab "$1"
  render "$@"
}
# What the terminal shows now, kept for `render` (which takes seconds: a
# countdown on screen may be answered in between).
grab() { t capture-pane -e -p -t shots > "$work/$1.ans"; }
render() { # name [rows] [cols]
  local height=$(( ${2:-$rows} * 17 + 21 )) width=$(( ${3:-$cols} * 17 / 2 + 20 ))
  aha --black --title "cutover: $1" < "$work/$1.ans" > "$work/$1.html"
  # A terminal keeps every character in its cell, whatever font draws it;
  # a browser does not. Pin each non-ASCII character (braille, symbols) to
  # one cell so the picture matches the terminal.
  python3 - "$work/$1.html" <<'PY'
import re, sys
path = sys.argv[1]
html = open(path, encoding="utf-8", errors="replace").read()
cell = lambda m: "".join(f'<span class="c">{c}</span>' for c in m.group(0))
parts = re.split(r"(<[^>]*>)", html)
parts = [p if p.startswith("<") else re.sub(r"[^\x00-\x7f]+", cell, p) for p in parts]
style = ('<style>body{margin:8px;font:14px/17px "DejaVu Sans Mono",monospace;}'
         'pre{margin:0;font:inherit;} .c{display:inline-block;width:1ch;overflow:visible;}</style></head>')
open(path, "w", encoding="utf-8").write("".join(parts).replace("</head>", style, 1))
PY
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chromium" --hide-scrollbars --window-size="$width,$height" \
    --screenshot="$PWD/$out/$1.png" "file://$work/$1.html" >/dev/null 2>&1
  echo "wrote $out/$1.png"
}

# Step verdicts (the demo at ten times speed): api stepped to 50%, where
# the demo's new build is bad; its analysis fails the step within a few
# simulated minutes and the console reverts it by itself. Then api's
# drill-down with the evidence and the verdict band, and www's autopilot
# counting down to its next step, cancelled with `c`.
verdicts_shot() {
  t kill-session -t shots 2>/dev/null || true
  mkdir -p "$work/verdicts"
  t new-session -d -x 160 -y 48 -s shots "XDG_STATE_HOME=$work/verdicts $bin demo --seed 2026 --speed 10"
  wait_for "req/m" 10
  keys BTab "]"
  wait_for "PROPOSAL: route api" 5
  keys y
  wait_for "read 50/50" 10
  wait_for "AUTO-REVERT route api" 60
  wait_for "read 75/25" 10
  sleep 1
  shoot verdicts 48 160
  keys Enter
  wait_for "whole min at this weight" 10
  shoot verdict-band 48 160
  # Back to the traffic panel, www selected for `c`.
  keys Escape Down Down
  wait_for "◷" 120
  grab autopilot
  keys c
  wait_for "AUTOPILOT: www stopped" 5
  render autopilot 48 160
  keys q
}

# Why 502s: the demo's founding night (ten times speed). A rebalance
# drains a Spot node holding api pods 20 s in; the group's activity and
# the 5xx rise come a minute later, and the route drill-down names the
# likely cause beside the risks. Then `cutover check --demo`.
lifecycle_shot() {
  t kill-session -t shots 2>/dev/null || true
  mkdir -p "$work/lifecycle"
  t new-session -d -x 200 -y 50 -s shots "XDG_STATE_HOME=$work/lifecycle $bin demo --seed 2026 --speed 10"
  wait_for "req/m" 10
  wait_for "stopped by ASG capacity rebalance" 60
  keys BTab Enter
  wait_for "likely cause   new" 10
  shoot why-502 50 200
  keys q
  t kill-session -t shots 2>/dev/null || true
  t new-session -d -x 120 -y 44 -s shots "$bin check --demo | head -40; sleep 600"
  wait_for "risk new" 10
  shoot check-risks 44 120
  t kill-session -t shots 2>/dev/null || true
}

if [ "${1:-}" = lifecycle ]; then
  lifecycle_shot
  exit 0
fi
if [ "${1:-}" = verdicts ]; then
  verdicts_shot
  exit 0
fi
if [ "${1:-}" = report ]; then
  report_shot
  exit 0
fi

# The scripted spot rebalance drains a new-side node 20 s after the start.
wait_for "req/m" 10
sleep 28
shoot main
keys Down Enter
wait_for "pods" 5
shoot workload
keys Escape BTab Enter
wait_for "requests / min" 5
shoot route
keys Escape "?"
wait_for "keymap:" 5
shoot help
keys "?"
# A proposal: focus the traffic panel, propose the api route's next step.
keys BTab "]"
wait_for "PROPOSAL" 5
shoot proposal
keys n
# The admin rule is the AWS Load Balancer Controller's: written directly
# (the typed override), the demo's controller puts it back.
# (`BTab` above left the events panel focused: back to the traffic panel.)
keys Tab Down "]"
wait_for "to write the rule directly" 5
t send-keys -t shots -l override
keys Enter
wait_for "REVERTED: route admin" 40
sleep 1
shoot revert
keys Up BTab
# A handoff of the scheduler, caught while the new side comes up.
keys Tab Tab Home Down Down Down Down Down h
wait_for "hand scheduler over" 5
# Argo CD would scale it back: the proposal asks for the typed override.
shoot override
t send-keys -t shots -l override
keys Enter
wait_for "gap" 40
sleep 3
shoot handoff
# The demo's GitOps controller scales old back up 90 s after the stop, as
# Argo CD self-heal would: the singleton alarm.
wait_for "SINGLETON ALARM" 120
sleep 2
shoot alarm
keys q

# The replay of that session, paused at the handoff (its override), on a taller terminal
# for the timeline's two rows.
sleep 1
recording=$(ls "$work"/cutover/recordings/demo-*.jsonl | head -1)
t kill-session -t shots 2>/dev/null || true
t new-session -d -x "$cols" -y 34 -s shots "$bin replay $recording"
wait_for "REPLAY of DEMO" 10
for _ in $(seq 1 30); do
  t capture-pane -p -t shots | grep -qF "overrode the owner" && break
  keys "]"
done
wait_for "overrode the owner" 2
shoot replay 34
keys q

# The live console, read-only, on the test peers (moto and two kmock APIs).
if [ -x .venv/bin/python ]; then
  exec 3< <(sleep 120)
  .venv/bin/python tests/harness/peers.py --dir "$work/peers" --route53 <&3 > "$work/peers.out" &
  for _ in $(seq 1 100); do grep -q READY "$work/peers.out" 2>/dev/null && break; sleep 0.1; done
  t kill-session -t shots 2>/dev/null || true
  t new-session -d -x "$cols" -y "$rows" -s shots \
    "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing XDG_STATE_HOME=$work $bin watch --plan $work/peers/plan.toml"
  wait_for "read 75/25" 15
  wait_for "read 100/0" 15
  wait_for "metrics: " 15
  sleep 2
  shoot watch
  keys q
  kill %1 2>/dev/null || true
else
  echo "screenshots: no .venv (run ./tests/run.sh once); skipping the watch screenshot" >&2
fi

# A fresh demo on a terminal of another size, or with other settings.
demo_at() { # cols rows [env...]
  local c=$1 r=$2; shift 2
  t kill-session -t shots 2>/dev/null || true
  mkdir -p "$work/$c-$r"
  t new-session -d -x "$c" -y "$r" -s shots "$* XDG_STATE_HOME=$work/$c-$r $bin demo --seed 2026"
  wait_for "req/m" 10
  sleep 3
}
# The smallest terminal it is laid out for, a wide one, and no colour.
demo_at 80 24
shoot small 24 80
keys q
demo_at 200 50
shoot wide 50 200
keys q
demo_at 120 32 NO_COLOR=1
shoot no-color
keys q
# A step to 50% on the api route, then its chart with the change marked.
demo_at 120 32
keys BTab "]"
wait_for "PROPOSAL" 5
keys y
sleep 0.5
if t capture-pane -p -t shots | grep -qF "PROPOSAL"; then keys Y; fi
wait_for "read 50/50" 30
keys Enter
wait_for "→50" 10
sleep 1
shoot chart
# Finding a workload: the filter typed into the workloads' title.
keys Escape Tab
t send-keys -t shots "/"
t send-keys -t shots -l sidekiq
wait_for "/sidekiq" 5
shoot find
keys Escape q

# The Route 53 route mid-lag: www stepped to 25%, the observed share
# following as clients' DNS caches expire (the demo at ten times speed).
t kill-session -t shots 2>/dev/null || true
mkdir -p "$work/dns"
t new-session -d -x 160 -y 40 -s shots "XDG_STATE_HOME=$work/dns $bin demo --seed 2026 --speed 10"
wait_for "req/m" 10
keys BTab Down Down "]"
wait_for "route www: 10% → 25% to new" 5
# Its analysis has not told yet (thin traffic at 10%): the step takes the
# typed word.
if t capture-pane -p -t shots | grep -qF "OVERRIDE"; then
  t send-keys -t shots -l override
  keys Enter
else
  keys y
fi
wait_for "read 75/25" 10
keys Enter
wait_for "% to new" 5
# About four simulated minutes: most clients have followed, the tail not.
sleep 24
shoot dns 40 160
keys q

verdicts_shot
lifecycle_shot

# A follower of a shared demo session, through a nats-server from the tests'
# venv: the replay's viewer, live, on what the demo publishes.
if [ -x .venv/bin/nats-server ]; then
  port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  .venv/bin/nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/nats" >/dev/null 2>&1 &
  nats=$!
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  t new-session -d -x 120 -y 32 -s pub "XDG_STATE_HOME=$work/pub $bin demo --seed 2026 --share nats://127.0.0.1:$port"
  for _ in $(seq 1 100); do "$bin" sessions "nats://127.0.0.1:$port" 2>/dev/null | grep -q ' live' && break; sleep 0.2; done
  t kill-session -t shots 2>/dev/null || true
  t new-session -d -x "$cols" -y 34 -s shots "XDG_STATE_HOME=$work/pub $bin follow nats://127.0.0.1:$port"
  wait_for "● LIVE" 15
  wait_for "app/api" 5
  sleep 3
  shoot follow 34
  keys q
  t kill-session -t pub 2>/dev/null || true
  kill "$nats" 2>/dev/null || true
else
  echo "screenshots: no .venv (run ./tests/run.sh once); skipping the follow screenshot" >&2
fi

report_shot

#!/usr/bin/env bash
# Distributed runs (docs/distributed.md), on this machine:
#  1. Aggregate rate: (a) one agent runs a GenerateDataKey workload at
#     BENCH_CLUSTER_RATE/s (default 4,000) with max_in_flight 4*B; (b) four
#     agents run the same workload at the same total rate, each with
#     max_in_flight B (BENCH_CLUSTER_INFLIGHT, default 64), so each sends
#     1/4 of it. Both through `kmsload run --agents N --nsqd ...` against one
#     shared null KMS handler (bench/nullkms), retries and quotas off. It
#     prints each run's merged sent/s and goodput/s and their ratio (goal:
#     within 5%).
#  2. Coordination cost of run (b): CPU in cluster code (NSQ publishing and
#     consuming, snapshots, heartbeats, clock probes, and the coordinator's
#     merge) against the agents' driver CPU, from CPU profiles of the four
#     agents and of the coordinator (goal: under 2%). nsqd's own CPU is
#     printed beside it. BENCH_CLUSTER_KEEP=1 keeps the profiles, logs and
#     results (go tool pprof DIR/kmsload DIR/four-agent-1.prof).
# The default rate is one a 2-core machine carries with room to spare, so
# that neither run is CPU-starved (a starved run measures the machine, not
# the distribution): at 4,000/s one agent uses about 0.25 core and four
# agents about 0.6 together (each process has its own runtime, pools and
# warm-up), the null handler and nsqd a few percent, which leaves most of
# a core for whatever else runs. nsqd is the version pinned in go.mod (the
# one `go tool nsqd` runs), built to a binary so that its own CPU can be
# read from /proc.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${BENCH_CLUSTER_RATE:-4000}
B=${BENCH_CLUSTER_INFLIGHT:-64}
DUR=${BENCH_CLUSTER_DURATION:-30s}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "${BENCH_CLUSTER_KEEP:-}" ]; then echo "profiles, logs and results kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Its own binary: bin/kmsload may be rebuilt by something else meanwhile.
kmsload="$work/kmsload"
go build -o "$kmsload" ./cmd/kmsload
go build -o "$work/nullkms" ./bench/nullkms
go build -o "$work/nsqd" github.com/nsqio/nsq/apps/nsqd

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
# rusage FILE CMD...: runs CMD, writes its user+system CPU seconds to FILE.
cat > "$work/rusage" <<'PY'
#!/usr/bin/env python3
import resource, subprocess, sys
rc = subprocess.run(sys.argv[2:]).returncode
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{u.ru_utime + u.ru_stime}\n")
sys.exit(rc)
PY
chmod +x "$work/rusage"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, clock ticks

null=$(free_port); "$work/nullkms" -addr "127.0.0.1:$null" & pids+=($!); wait_port "$null"
tcp=$(free_port); http=$(free_port)
mkdir "$work/nsqd-data"
"$work/nsqd" --tcp-address="127.0.0.1:$tcp" --http-address="127.0.0.1:$http" --https-address= \
	--broadcast-address=127.0.0.1 --data-path="$work/nsqd-data" > "$work/nsqd.log" 2>&1 & pids+=($!)
nsqd_pid=${pids[-1]}
wait_port "$tcp"

scenario() { # scenario FILE MAX_IN_FLIGHT
	cat > "$1" <<YAML
name: bench-cluster
description: One GenerateDataKey workload at a constant rate, spread over agents.
scale: 1
duration: $DUR
quotas: {mode: off}
client: {retry: none}
accounts: {prod: "111111111111"}
keys:
  k: {account: prod}
workloads:
  gdk: {caller: prod, key: k, operation: GenerateDataKey, rate: $RATE/s, arrival: constant, max_in_flight: $2}
YAML
}

# distributed NAME AGENTS MAX_IN_FLIGHT: one coordinated run; agents and
# coordinator write CPU profiles to $work/NAME-*.prof.
distributed() {
	local name=$1 n=$2 agents=()
	scenario "$work/$name.yaml" "$3"
	for i in $(seq 1 "$n"); do
		"$kmsload" agent --nsqd "127.0.0.1:$tcp" --topic "bench-$name" --name "$name-$i" -q \
			--cpuprofile "$work/$name-agent-$i.prof" 2> "$work/$name-agent-$i.log" &
		agents+=($!); pids+=($!)
	done
	local nsqd0; nsqd0=$(cpu_ticks "$nsqd_pid")
"$work/rusage" "$work/$name-coordinator.cpu" "$kmsload" run "$work/$name.yaml" --agents "$n" --nsqd "127.0.0.1:$tcp" --topic "bench-$name" \
		--target endpoint --endpoint "http://127.0.0.1:$null" --quiet \
		--cpuprofile "$work/$name-coordinator.prof" --out "$work/$name" > "$work/$name.log" 2>&1 || {
		echo "run $name failed:" >&2; tail -20 "$work/$name.log" >&2; return 1; }
	echo $(( $(cpu_ticks "$nsqd_pid") - nsqd0 )) > "$work/$name-nsqd.ticks"
	local t=0
	for p in "${agents[@]}"; do t=$((t + $(cpu_ticks "$p"))); kill -TERM "$p"; done
	echo "$t" > "$work/$name-agents.ticks"
	for p in "${agents[@]}"; do wait "$p" || true; done
}

echo "== distributed runs: GenerateDataKey at $RATE/s for $DUR on the null handler, through nsqd =="
uptime
distributed one 1 $((4 * B))
distributed four 4 "$B"
uptime

python3 - "$work" "$RATE" "$B" "$(getconf CLK_TCK)" <<'PY'
import json, os, re, subprocess, sys

work, rate, b, hz = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])

def merged(name):
    r = json.load(open(os.path.join(work, name, "results.json")))
    w = r["workloads"][0]
    errs = sum((w.get("errors") or {}).values())
    return r, w, errs

res = {}
for name, n, bound in (("one", 1, 4 * b), ("four", 4, b)):
    r, w, errs = merged(name)
    res[name] = w
    agents = r["cluster"]["agents"]
    print(f'{n} agent{"s" if n > 1 else " "} x max_in_flight {bound:>4}: target {w["target_per_s"]:8.1f}/s  '
          f'sent {w["sent_per_s"]:8.1f}/s  goodput {w["goodput_per_s"]:8.1f}/s  dropped {w["dropped"]:>5}  '
          f'errors {errs:>4}  p99 {w["latency_ms"]["p99"]:6.2f} ms  partial {r.get("partial", False)}  '
          f'max start lag {max(a["start_lag_ms"] for a in agents):.1f} ms')
ratio = res["four"]["goodput_per_s"] / res["one"]["goodput_per_s"]
print(f'aggregate rate: 4 agents / 1 agent = {ratio:.3f} (goodput; sent: '
      f'{res["four"]["sent_per_s"] / res["one"]["sent_per_s"]:.3f}) (goal: within 5%, i.e. 0.95-1.05)')

# CPU profiles: each sample's stack, from `go tool pprof -traces`.
def traces(paths):
    out = subprocess.run(["go", "tool", "pprof", "-traces", os.path.join(work, "kmsload")] + paths,
                         capture_output=True, text=True, check=True).stdout
    for block in out.split("-----------+")[1:]:
        lines = [l for l in block.split("\n") if l.strip() and not l.startswith("-")]
        if not lines:
            continue
        m = re.match(r"\s*([\d.]+)(ns|us|µs|ms|s)\s+(.*)", lines[0])
        if not m:
            continue
        v = float(m.group(1)) * {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1}[m.group(2)]
        frames = [m.group(3).strip()] + [l.strip() for l in lines[1:]]
        yield v, frames

# Cluster code: go-nsq, package cluster (but not the driver goroutine an
# agent starts for a plan, which is the driver's work), and the snapshots.
COORD = re.compile(r"github\.com/nsqio/go-nsq|kmsload/cluster\.|report\.\(\*Snapshotter\)|report\.\(\*handedOver\)|report\.\(\*Merge\)")
DRIVER = re.compile(r"kmsload/cluster\.\(\*Agent\)\.runPlan")

def split(paths):
    total = coord = 0.0
    for v, frames in traces(paths):
        total += v
        if any(COORD.search(f) for f in frames) and not any(DRIVER.search(f) for f in frames):
            coord += v
    return total, coord

agent_profs = sorted(os.path.join(work, f) for f in os.listdir(work) if f.startswith("four-agent-") and f.endswith(".prof"))
a_total, a_coord = split(agent_profs)
c_total, c_coord = split([os.path.join(work, "four-coordinator.prof")])
driver = a_total - a_coord
read = lambda f: float(open(os.path.join(work, f)).read())
agents_rusage, nsqd, coord_rusage = read("four-agents.ticks") / hz, read("four-nsqd.ticks") / hz, read("four-coordinator.cpu")
one_rusage = read("one-agents.ticks") / hz
n = round((a_coord + c_coord) * 100)  # samples at 100 Hz
print(f"CPU (user+system) of the agents, whole life: 1 agent {one_rusage:.2f} s, 4 agents {agents_rusage:.2f} s (rusage)")
print(f"CPU of the 4-agent run, profiled at 100 Hz: agents {a_total:.2f} s, of which cluster code {a_coord:.2f} s; "
      f"coordinator {c_total:.2f} s, of which cluster code {c_coord:.2f} s ({coord_rusage:.2f} s by rusage, "
      f"start-up and writing results included); nsqd {nsqd:.2f} s (rusage)")
err = 100 * (a_coord + c_coord) / driver / max(n, 1) ** 0.5
share = (a_coord + c_coord) / driver
f = agents_rusage / a_total        # rusage seconds per profiled second of the agents
driver_r = driver * f
print(f"coordination = {100 * share:.1f}% of driver CPU (goal < 2%) "
      f"[{n} samples, +-{err:.1f} points; agents' cluster code {100 * a_coord / driver:.2f}%, coordinator's {100 * c_coord / driver:.2f}%]")
print(f"  upper bounds: the whole coordinator process (rusage) in place of its cluster code: "
      f"{100 * (a_coord * f + coord_rusage) / driver_r:.1f}%; nsqd's CPU added: {100 * (share + nsqd / driver_r):.1f}%")
PY

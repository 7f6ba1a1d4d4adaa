#!/usr/bin/env bash
# make bench, section import: kmsload import cloudtrail of a synthetic trail
# of BENCH_IMPORT_EVENTS KMS events (default 10,000,000) in gzipped delivery
# files (importer/testdata/gentrail: several accounts, S3 for a role, a
# cross-account caller, a throttled burst), end to end, with its peak RSS
# against an import of a tenth of it (flat memory: the same); then a
# 24-hour trace of that traffic simulated at the scale import chose.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${BENCH_IMPORT_EVENTS:-10000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o bin/kmsload ./cmd/kmsload
# The trail writes about 32,000 KMS events a minute at rate 1, besides
# the burst.
minutes=$(( (EVENTS + 31999) / 32000 ))
go run ./importer/testdata/gentrail -o "$work/big" -duration "${minutes}m" >/dev/null
go run ./importer/testdata/gentrail -o "$work/small" -duration "$(( (minutes + 9) / 10 ))m" >/dev/null
measure() { # measure DIR -> "events seconds rssKiB"
	/usr/bin/time -f "%e %M" -o "$work/time" bin/kmsload import cloudtrail "$1" -o "$work/imp.yaml" --force >"$work/out" 2>/dev/null
	read -r secs rss < <(tail -1 "$work/time")
	events=$(sed -n 's/^kmsload import: \([0-9,]*\) KMS calls.*/\1/p' "$work/out" | tr -d ,)
	echo "$events $secs $rss"
}
read -r n1 s1 r1 <<<"$(measure "$work/small")"
read -r n s r <<<"$(measure "$work/big")"
files=$(find "$work/big" -name '*.json.gz' | wc -l)
python3 - "$n" "$s" "$r" "$n1" "$r1" "$files" <<'PY'
import sys
n, s, r, n1, r1, files = map(float, sys.argv[1:])
print(f"import cloudtrail: {n:,.0f} KMS events from {files:.0f} gzipped files in {s:.1f} s = {n/s:,.0f} events/s (goal >= 200,000); "
      f"peak RSS {r/1024:.0f} MiB, {r/r1:.2f}x that of {n1:,.0f} events (flat memory: about 1x)")
PY
# A day: the imported trace's 10 minutes from the start, repeated for 24 hours.
bin/kmsload import cloudtrail "$work/small" -o "$work/day.yaml" --to 2026-11-30T09:10:00Z --force >/dev/null 2>&1
python3 - "$work" <<'PY'
import re, sys
w = sys.argv[1]
series, order = {}, []
for line in open(f"{w}/day.trace"):
    f = line.split()
    if f and f[0] == "series":
        if f[1] not in series:
            series[f[1]] = []; order.append(f[1])
        for t in f[2:]:
            c, _, r = t.partition("*")
            series[f[1]] += [c] * int(r or 1)
with open(f"{w}/day.trace", "w") as out:
    out.write("kmsload-trace 1\nstep 1s\nstart 2026-11-30T00:00:00Z\n")
    for name in order:
        s = series[name] * (86400 // len(series[name]))
        for i in range(0, len(s), 3600):
            out.write(f"series {name} {' '.join(s[i:i+3600])}\n")
y = open(f"{w}/day.yaml").read()
open(f"{w}/day.yaml", "w").write(re.sub(r"duration: \S+", "duration: 24h", y))
PY
/usr/bin/time -f "%e %M" -o "$work/time" bin/kmsload simulate "$work/day.yaml" --out "$work/daysim" --force -q >/dev/null 2>&1 || true
read -r secs rss < <(tail -1 "$work/time")
scale=$(sed -n 's/^scale: //p' "$work/day.yaml")
python3 - "$secs" "$rss" "$scale" "$work/daysim/results.json" <<'PY'
import json, sys
secs, rss, scale = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
r = json.load(open(sys.argv[4]))
n = sum(w["requests"] for w in r["workloads"])
print(f"simulate a 24-hour trace: {n:,.0f} requests (scale {scale:g}) in {secs:.1f} s (goal < 60 s), peak RSS {rss/1024:.0f} MiB")
PY

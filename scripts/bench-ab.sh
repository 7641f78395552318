#!/bin/bash
# A/B benchmark of two (or more) tresor release binaries in one session, as issue #16's
# tables were measured: each binary's `tresor serve --dev` is started by hand and driven by
# the same `tresor bench --endpoint … --baseline` client (so the baselines and the load
# generator are identical), binaries alternating, two rounds; plain at 32 connections, one
# connection, and TLS. Prints each operation's req/s and its throughput, p50 and p99
# ratios to the minimal KMS endpoint of the same run, and the server's CPU time per request
# over minimal-kms's (`cpu_x`, from /proc; steadier than req/s on a shared machine). VmRSS
# of each server goes to OUTDIR/LABEL.rss.
#
# usage: scripts/bench-ab.sh CLIENT_BIN OUTDIR LABEL=BIN [LABEL=BIN ...]
#   e.g. scripts/bench-ab.sh ./new/tresor /tmp/ab before=./old/tresor after=./new/tresor
CLIENT=$1; OUT=$2; shift 2; mkdir -p $OUT
start() { # bin tlsflag
  D=$(mktemp -d /tmp/tresor-ab-XXXX)
  $1 serve --dev --listen 127.0.0.1:0 --data-dir $D $2 > $D/out 2>$D/err &
  PID=$!
  for i in $(seq 100); do grep -q "listening on" $D/out && break; sleep 0.1; done
  URL=$(grep -o "https\?://[0-9.:]*" $D/out | head -1)
}
stop() { grep VmRSS /proc/$PID/status | tr -s ' ' >> $OUT/$1.rss; kill $PID; wait $PID 2>/dev/null; rm -rf $D; }
for round in 1 2; do
  for pair in "$@"; do
    L=${pair%%=*}; B=${pair#*=}
    start $B ""
    $CLIENT bench --endpoint $URL --server-pid $PID --baseline --duration 5 --warmup 1 --ops Encrypt64,Decrypt,GenerateDataKey,GenerateMac,DescribeKey,SignP256,CreateKey --json $OUT/$L-plain-$round.json > /dev/null 2>&1
    stop $L
    start $B ""
    $CLIENT bench --endpoint $URL --server-pid $PID --baseline --concurrency 1 --duration 4 --warmup 1 --ops Encrypt64,DescribeKey --json $OUT/$L-c1-$round.json > /dev/null 2>&1
    stop $L
    start $B "--tls"
    $CLIENT bench --endpoint $URL --server-pid $PID --ca-bundle $D/tls/ca.pem --baseline --duration 5 --warmup 1 --ops Encrypt64,DescribeKey --json $OUT/$L-tls-$round.json > /dev/null 2>&1
    stop $L
  done
done
python3 - $OUT "$@" <<'PY'
import json,sys,glob,os
out=sys.argv[1]; labels=[p.split('=')[0] for p in sys.argv[2:]]
for kind in ["plain","c1","tls"]:
    print(f"== {kind} ==")
    for L in labels:
        rows={}
        for f in sorted(glob.glob(f"{out}/{L}-{kind}-*.json")):
            r=json.load(open(f)); m=r["minimal_kms"]
            for o in r["operations"]:
                rows.setdefault(o["name"],[]).append((o["rps"],o.get("minimal_throughput_ratio"),o["latency_ms"]["p50"]/m["latency_ms"]["p50"],o.get("minimal_p99_ratio"),o.get("minimal_cpu_ratio")))
            rows.setdefault("minimal-kms",[]).append((m["rps"],1.0,1.0,1.0,1.0))
        for k,v in rows.items():
            fmt=lambda i: " / ".join(f"{x[i]:.2f}" if x[i] is not None else "-" for x in v)
            print(f"{L:8} {k:16} rps {' / '.join(f'{x[0]:.0f}' for x in v):>18}  x_min {fmt(1):>12}  p50_x {fmt(2):>12}  p99_x {fmt(3):>12}  cpu_x {fmt(4):>12}")
PY

#!/usr/bin/env bash
# Soak test: train a compass workload for a fixed wall-clock time and sample the process's
# resident memory (VmRSS), thread count and open file descriptors every few seconds.
#
#   Scripts/soak.sh [MINUTES] [OUT_DIR]            (defaults: 20, ./soak-out)
#
# Environment: PEREGRINE (the binary; default .build-rel-rel/release/peregrine), MODEL (cnn),
# THREADS (OMP_NUM_THREADS for the kernels; default 1, leaving the other core free), INTERVAL
# (seconds between samples; default 5), EXTRA (more `peregrine train` arguments).
#
# Writes OUT_DIR/rss.csv (seconds,epoch,rss_kb,threads,fds), OUT_DIR/train.log and prints one
# summary row per epoch (min / max / last RSS). A flat curve after the first epoch is the pass
# criterion: the first epoch allocates the per-thread scratch, the optimizer slots and the
# allocator's arenas; later epochs must reuse them.
set -euo pipefail
MINUTES=${1:-20}
OUT=${2:-soak-out}
BIN=${PEREGRINE:-.build-rel-rel/release/peregrine}
MODEL=${MODEL:-cnn}
INTERVAL=${INTERVAL:-5}
export OMP_NUM_THREADS=${THREADS:-1}
mkdir -p "$OUT"
CSV="$OUT/rss.csv"
LOG="$OUT/train.log"

# Far more epochs than fit in the time: the run is stopped when the time is up.
# stdbuf -oL: line-buffered stdout, so each "Epoch k/N" line reaches the log as it is printed
# (fully buffered output would attribute samples to the wrong epoch).
stdbuf -oL "$BIN" train --model "$MODEL" --epochs 100000 ${EXTRA:-} >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
echo "seconds,epoch,rss_kb,threads,fds" >"$CSV"
START=$(date +%s)
END=$((START + MINUTES * 60))
while kill -0 "$PID" 2>/dev/null && [ "$(date +%s)" -lt "$END" ]; do
    NOW=$(date +%s)
    RSS=$(awk '/^VmRSS:/ {print $2}' /proc/$PID/status 2>/dev/null || echo "")
    THR=$(awk '/^Threads:/ {print $2}' /proc/$PID/status 2>/dev/null || echo "")
    FDS=$(ls /proc/$PID/fd 2>/dev/null | wc -l)
    # The epoch in progress: the number of "Epoch k/N" lines printed so far.
    EPOCH=$(grep -c '^Epoch ' "$LOG" || true)
    [ -n "$RSS" ] && echo "$((NOW - START)),$EPOCH,$RSS,$THR,$FDS" >>"$CSV"
    sleep "$INTERVAL"
done
kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
trap - EXIT

echo "soak: $MODEL, OMP_NUM_THREADS=$OMP_NUM_THREADS, $(( $(date +%s) - START )) s, samples in $CSV"
echo "epoch,samples,rss_min_mb,rss_max_mb,rss_last_mb,threads_max,fds_max"
awk -F, 'NR > 1 {
    e = $2; n[e]++; last[e] = $3
    if (!(e in mn) || $3 < mn[e]) mn[e] = $3
    if ($3 > mx[e]) mx[e] = $3
    if ($4 > th[e]) th[e] = $4
    if ($5 > fd[e]) fd[e] = $5
    if (!(e in seen)) { seen[e] = 1; order[++k] = e }
} END {
    for (i = 1; i <= k; i++) { e = order[i]
        printf "%d,%d,%.1f,%.1f,%.1f,%d,%d\n", e, n[e], mn[e]/1024, mx[e]/1024, last[e]/1024, th[e], fd[e] }
}' "$CSV" | tee "$OUT/summary.csv"

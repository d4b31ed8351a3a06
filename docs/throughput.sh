#!/bin/sh
# Reproduces the README's Throughput table and docs/throughput.svg: the Keras and PyTorch anchors
# (../shared/anchors, 2 threads, 2 epochs, one process per workload under /usr/bin/time -v for the
# peak RSS), then `peregrine bench train` on the same workloads, back to back in one sitting.
# ANCHOR_SAMPLES=N trains the anchors on the first N training images (docs/anchor_subset.py) to
# keep their epochs short on a loaded machine; 60000 (default) runs the scripts untouched.
#
#   sh docs/throughput.sh [python-with-tensorflow-and-torch] [anchors-dir]
set -eu
PY=${1:-$HOME/anchors-venv/bin/python}
ANCHORS=${2:-../shared/anchors}
LOGS=${LOGS:-/tmp/peregrine-throughput}
ANCHOR_SAMPLES=${ANCHOR_SAMPLES:-60000}
SUBSET=""
[ "$ANCHOR_SAMPLES" -lt 60000 ] && SUBSET="docs/anchor_subset.py $ANCHOR_SAMPLES"
mkdir -p "$LOGS"
if [ -z "${PEREGRINE:-}" ]; then   # or PEREGRINE=path/to/a/release/peregrine
    swift build -c release --product peregrine
    PEREGRINE=$(swift build -c release --show-bin-path)/peregrine
fi
uptime | tee "$LOGS/uptime-start.txt"
for w in mlp cnn cnnbn lstm; do
    /usr/bin/time -v "$PY" $SUBSET "$ANCHORS/keras_fmnist.py" 2 $w > "$LOGS/keras-$w.log" 2> "$LOGS/keras-$w.time"
    cat "$LOGS/keras-$w.log"
    /usr/bin/time -v "$PY" $SUBSET "$ANCHORS/torch_fmnist.py" 2 $w > "$LOGS/torch-$w.log" 2> "$LOGS/torch-$w.time"
    cat "$LOGS/torch-$w.log"
    # Peregrine alone in its process for the peak RSS (and the 1-thread/2-thread scaling).
    /usr/bin/time -v "$PEREGRINE" bench train --model $w --threads 1,2 --steps 30 --repeats 3 > "$LOGS/peregrine-$w.log" 2> "$LOGS/peregrine-$w.time"
    cat "$LOGS/peregrine-$w.log"
done
KERAS=$("$PY" -c "import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'; import keras, tensorflow as tf; print(f'Keras {keras.__version__} (TF {tf.__version__})')" 2>/dev/null)
TORCH=$("$PY" -c "import torch; print(f'PyTorch {torch.__version__}')")
python3 docs/anchors_json.py --description "keras_fmnist.py / torch_fmnist.py 2 <workload>, 2 threads, best epoch of 2 over $ANCHOR_SAMPLES training images; $(date -u +%Y-%m-%d), $(nproc) cores, load average $(sed 's/.*average: //' "$LOGS/uptime-start.txt") at the start" \
    "$KERAS=$LOGS/keras-*.log" "$TORCH=$LOGS/torch-*.log" > docs/anchors.json
# All four again in one process, for the table and the chart against the anchors just measured.
"$PEREGRINE" bench train --model all --threads 2 --steps 40 --repeats 3 --anchors docs/anchors.json \
    --svg docs/throughput.svg --json docs/peregrine.json | tee "$LOGS/peregrine-all.log"
uptime | tee "$LOGS/uptime-end.txt"
grep -H "Maximum resident" "$LOGS"/*.time

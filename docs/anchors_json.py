"""Collects the anchor scripts' output into the JSON that `peregrine bench train --anchors` reads.

Usage:
    python3 docs/anchors_json.py --description "where and when" "Keras 3 (TF 2.21)=keras-*.log" \
        "PyTorch 2.15=torch-*.log" > docs/anchors.json

Each NAME=GLOB names one anchor and the files holding its output: the lines
`mlp: params=… train=17158 samples/s (…) infer=28173 samples/s test_acc=…` of keras_fmnist.py and
torch_fmnist.py. A file NAME.time beside a log (the stderr of `/usr/bin/time -v`) adds the run's
peak RSS in MB as "rss_mb" (informative; the chart reads only "train" and "infer").

Format written (ThroughputChart.AnchorFile in Sources/Peregrine/Benchmarking/ThroughputChart.swift):
    {"description": "...", "anchors": [{"name": "...", "results": {"mlp": {"train": 1, "infer": 2}}}]}
"""
import glob, json, os, re, sys

LINE = re.compile(r"^(\w+): params=\d+ train=(\d+) samples/s .* infer=(\d+) samples/s test_acc=([0-9.]+)")

def main(argv):
    description, specs = None, []
    while argv:
        arg = argv.pop(0)
        if arg == "--description":
            description = argv.pop(0)
        else:
            specs.append(arg)
    anchors = []
    for spec in specs:
        name, pattern = spec.split("=", 1)
        results = {}
        for path in sorted(glob.glob(pattern)):
            rss = None
            timing = os.path.splitext(path)[0] + ".time"
            if os.path.exists(timing):
                match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timing).read())
                rss = round(int(match.group(1)) / 1024) if match else None
            for line in open(path):
                match = LINE.match(line.strip())
                if match:
                    workload, train, infer, acc = match.groups()
                    results[workload] = {"train": float(train), "infer": float(infer), "test_acc": float(acc)}
                    if rss is not None:
                        results[workload]["rss_mb"] = rss
        anchors.append({"name": name, "results": results})
    json.dump({"description": description, "anchors": anchors}, sys.stdout, indent=2)
    print()

if __name__ == "__main__":
    main(sys.argv[1:])

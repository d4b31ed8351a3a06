"""Splits a perf profile of `peregrine bench train` (or `train`) into the phases of a step.

    OMP_NUM_THREADS=1 perf record -F 999 -g -o p.perf \\
        peregrine bench train --model cnn --threads 1 --repeats 2 --steps 30
    python3 docs/profile_phases.py p.perf

Each sample's call chain puts it in one phase: under Model.predict/evaluate -> inference; under
GradientTape.gradient -> backward; under Optimizer.apply -> optimizer; the rest of Model.fit
under the layer calls or the loss -> forward+loss, other frames of fit -> other in fit; anything
else (data loading, the FMA-peak probe, set-up) -> outside. Within a phase the sample counts
for its leaf symbol. Prints each phase's share of all samples and its six largest leaves.
"""
import collections
import subprocess
import sys


def phase_of(stack: str) -> str:
    if "ModelC7predict" in stack or "ModelC8evaluate" in stack:
        return "inference"
    if "GradientTapeC8gradient" in stack:
        return "backward"
    if "OptimizerC5apply" in stack:
        return "optimizer"
    if "ModelC3fit" in stack:
        return "forward+loss" if "callWithMasks" in stack or "weightedLoss" in stack else "other in fit"
    return "outside (setup, peak, data)"


def main(path: str) -> None:
    script = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym"],
                            capture_output=True, text=True, check=True).stdout
    phases, leaves, total = collections.Counter(), collections.defaultdict(collections.Counter), 0
    for block in script.split("\n\n"):
        frames = [line.strip().split(" ", 1)[-1] for line in block.strip().split("\n") if line.strip()]
        if not frames:
            continue
        total += 1
        phase = phase_of(" ".join(frames))
        phases[phase] += 1
        leaves[phase][frames[0].split("+")[0]] += 1
    for phase, count in phases.most_common():
        top = ", ".join(f"{name[:32]} {100 * n / total:.1f}" for name, n in leaves[phase].most_common(6))
        print(f"{phase:28s} {100 * count / total:5.1f}%  | {top}")


if __name__ == "__main__":
    main(sys.argv[1])

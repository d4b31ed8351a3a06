// The four compass workloads (batch 128, Adam, sparse categorical cross-entropy on logits), each
// split into the pieces of a training step, one batch per iteration:
//   forward   the model in training mode, no tape
//   backward  the gradients of a recorded forward + loss (the recording is outside the measured
//             region: startMeasurement/stopMeasurement around the gradient only)
//   step      forward + loss + backward + Adam update: what one `fit` step costs without the
//             shuffle and the metric (the model's TrainingPlan: no heap allocation once warm;
//             the malloc count left is the harness's, measured by the empty iteration)
//   step (tape)  the same step recorded on a tape and differentiated, as before the plans
//   predict   one inference batch of 256 through `predict`
// Metrics: samples/s (custom; the framework's custom metrics are integers), wall clock, and the
// malloc counters, so the heap allocations per warm step are visible (issue #6 asks for none).
// Data: the embedded synthetic images (speed does not depend on the pixels; no files needed).
//
//   cd Benchmarks && swift package --disable-sandbox benchmark --target WorkloadBenchmarks
//   swift package --disable-sandbox benchmark --target WorkloadBenchmarks --filter "Workload cnn.*"
import Benchmark
import Peregrine

let samplesPerSecond = BenchmarkMetric.custom("samples/s", polarity: .prefersLarger, useScalingFactor: false)

func rate(_ samples: Int, _ elapsed: Duration) -> Int {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return Int(Double(samples) / seconds)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, samplesPerSecond, .mallocCountTotal, .mallocBytesCount, .peakMemoryResident],
        timeUnits: .milliseconds,
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 100)

    let data: TrainingBenchmarkData
    do {
        data = try TrainingBenchmarkData.load(.synthetic)
    } catch {
        fatalError("WorkloadBenchmarks: \(error)")
    }
    let clock = ContinuousClock()
    // The harness's own count: an iteration that does nothing but report its rate. The malloc
    // counters of the benchmarks below include these; a step's own allocations are the rest.
    Benchmark("Workload harness (empty iteration)") { benchmark in
        let start = clock.now
        benchmark.measurement(samplesPerSecond, rate(1, clock.now - start + .nanoseconds(1)))
    }
    for workload in CompassWorkload.allCases {
        let bench: TrainingBenchmark
        do {
            bench = try TrainingBenchmark(workload: workload, data: data)
        } catch {
            fatalError("WorkloadBenchmarks: \(workload): \(error)")
        }
        let batch = bench.batchSize
        Benchmark("Workload \(workload) forward") { benchmark in
            let start = clock.now
            try bench.forward()
            benchmark.measurement(samplesPerSecond, rate(batch, clock.now - start))
        }
        Benchmark("Workload \(workload) backward") { benchmark in
            let recorded = try bench.recordForward()
            benchmark.startMeasurement()
            let start = clock.now
            try bench.backward(recorded)
            let elapsed = clock.now - start
            benchmark.stopMeasurement()
            benchmark.measurement(samplesPerSecond, rate(batch, elapsed))
        }
        Benchmark("Workload \(workload) step") { benchmark in
            let start = clock.now
            try bench.step()
            benchmark.measurement(samplesPerSecond, rate(batch, clock.now - start))
        }
        let taped: TrainingBenchmark
        do {
            taped = try TrainingBenchmark(workload: workload, data: data)
            taped.usesTrainingPlan = false
        } catch {
            fatalError("WorkloadBenchmarks: \(workload): \(error)")
        }
        Benchmark("Workload \(workload) step (tape)") { benchmark in
            let start = clock.now
            try taped.step()
            benchmark.measurement(samplesPerSecond, rate(batch, clock.now - start))
        }
        Benchmark("Workload \(workload) predict") { benchmark in
            let start = clock.now
            try bench.predictBatch()
            benchmark.measurement(samplesPerSecond, rate(bench.predictBatchSize, clock.now - start))
        }
    }
}

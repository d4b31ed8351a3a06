import ArgumentParser
import Foundation
import Peregrine

/// `peregrine bench train`: training and inference samples/s of the compass workloads, as the
/// anchors measure them, with the efficiency against the FMA peak measured in the same run.
///
/// ```
/// peregrine bench train --model cnn --threads 1,2
/// peregrine bench train --model all --anchors docs/anchors.json --svg docs/throughput.svg
/// ```
struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training and inference samples/s of the compass workloads, % of FMA peak, peak RSS.",
        discussion: """
            Each workload is compiled with Adam(1e-3) and sparse categorical cross-entropy on logits \
            (accuracy metric), warmed up, then timed: training = one `fit` epoch of --steps batches \
            of 128 (shuffled: forward, loss, backward, Adam update, metric), inference = `predict` \
            over the test set with batch 256 (both as keras_fmnist.py does). Repeats alternate the \
            thread counts; the table shows medians. GFLOP/s counts the layers' products \
            (ModelArithmetic); % peak is against the FMA peak measured at the same thread count in \
            this run. Peak RSS is the process's so far (run one --model per process for a \
            per-workload figure). Heap allocations per step are counted by the Benchmarks suite \
            (cd Benchmarks && swift package benchmark --target WorkloadBenchmarks), not here.
            """)

    @Option(help: "Workload: mlp, cnn, cnnbn, lstm or all.")
    var model: String = "all"

    @Option(help: "Thread counts, comma-separated (e.g. 1,2); default: OMP_NUM_THREADS or all cores.")
    var threads: String?

    @Option(help: "Training steps (batches of 128) per timed epoch.")
    var steps: Int = 50

    @Option(help: "Timed repeats per thread count; the median is reported.")
    var repeats: Int = 3

    @Option(help: "Images: fashion (Fashion-MNIST, falling back to synthetic when absent) or synthetic.")
    var data: String = "fashion"

    @Option(help: "The anchors' samples/s (JSON, see ThroughputChart.AnchorFile) for the ratio columns and the chart.")
    var anchors: String?

    @Option(help: "Write an SVG bar chart against the anchors here (needs --anchors).")
    var svg: String?

    @Option(help: "Write Peregrine's medians (at the largest thread count) here, in the anchors' JSON format.")
    var json: String?

    @Option(help: "Measure nothing: chart (--svg) earlier results, given in the anchors' JSON format (first series).")
    var results: String?

    func validate() throws {
        guard model == "all" || CompassWorkload(rawValue: model) != nil else {
            throw ValidationError("--model expects one of mlp, cnn, cnnbn, lstm, all, got '\(model)'")
        }
        guard TrainingBenchmarkData.Kind(rawValue: data) != nil else {
            throw ValidationError("--data expects fashion or synthetic, got '\(data)'")
        }
        guard steps > 0, repeats > 0 else { throw ValidationError("--steps and --repeats expect positive counts") }
        _ = try threadCounts()
        if svg != nil && anchors == nil { throw ValidationError("--svg needs --anchors (the bars are relative to the faster anchor)") }
    }

    func threadCounts() throws -> [Int] {
        guard let threads else { return [Runtime.threads] }
        let counts = threads.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--threads expects positive counts separated by commas, got '\(threads)'")
        }
        return counts.map { $0! }
    }

    func run() throws {
        if let results {
            guard let anchors, let svg else { throw ValidationError("--results needs --anchors and --svg") }
            guard let subject = try ThroughputChart.loadAnchors(from: results).anchors.first else {
                throw ValidationError("--results: no series in \(results)")
            }
            try ThroughputChart(subject: subject, anchors: try ThroughputChart.loadAnchors(from: anchors).anchors).write(to: svg)
            print("wrote \(svg) from \(results)")
            return
        }
        let workloads = model == "all" ? CompassWorkload.allCases : [CompassWorkload(rawValue: model)!]
        let counts = try threadCounts()
        let anchorFile = try anchors.map(ThroughputChart.loadAnchors(from:))
        let requested = TrainingBenchmarkData.Kind(rawValue: data)!
        let kind = TrainingBenchmarkData.available(requested)
        if kind != requested {
            print("(Fashion-MNIST not found in \(FashionMNIST.defaultDirectory.path): using the synthetic set; apt-get install dataset-fashion-mnist)")
        }
        let dataset = try TrainingBenchmarkData.load(kind)
        print("bench train: \(dataset.source), isa \(Runtime.isa), threads \(counts.map(String.init).joined(separator: ",")); "
            + "train = fit epoch of \(steps) steps × batch 128, infer = predict batch 256; median of \(repeats)")

        var summary: [TrainingThroughput] = []
        for workload in workloads {
            let bench = try TrainingBenchmark(workload: workload, data: dataset)
            let arithmetic = bench.arithmetic
            let issue = workload.flopsPerSample
            print("\n\(workload): \(Self.mflop(arithmetic.trainingFLOPs)) / \(Self.mflop(arithmetic.inferenceFLOPs)) MFLOP per sample "
                + "train / infer (counted from the layers; issue #6: \(Self.mflop(issue.train)) / \(Self.mflop(issue.infer)))")
            // The peak at each thread count, before and after; a transient load only lowers it.
            var peaks: [Int: Double] = [:]
            for t in counts { peaks[t] = Runtime.measureFMAPeak(threads: t) }
            for t in counts {
                Runtime.threads = t
                try bench.warmUp()
            }
            var train: [Int: [Double]] = [:], infer: [Int: [Double]] = [:]
            for _ in 0..<repeats {
                for t in counts {
                    Runtime.threads = t
                    train[t, default: []].append(try bench.trainingSamplesPerSecond(steps: steps))
                    infer[t, default: []].append(try bench.inferenceSamplesPerSecond())
                }
            }
            for t in counts { peaks[t] = Swift.max(peaks[t]!, Runtime.measureFMAPeak(threads: t)) }
            Runtime.threads = counts.last!

            print("  threads    train/s  GFLOP/s  % peak    infer/s  GFLOP/s  % peak   FMA peak")
            var results: [TrainingThroughput] = []
            for t in counts {
                let result = TrainingThroughput(
                    workload: workload, threads: t, train: train[t]!, infer: infer[t]!,
                    fmaPeakGFLOPS: peaks[t]!, arithmetic: arithmetic)
                results.append(result)
                print(String(
                    format: "  %7d %10.0f %8.1f %6.1f%% %10.0f %8.1f %6.1f%% %10.1f",
                    t, result.trainMedian, result.trainGFLOPS, 100 * result.trainEfficiency,
                    result.inferMedian, result.inferGFLOPS, 100 * result.inferEfficiency, result.fmaPeakGFLOPS))
            }
            print("  runs: train " + results.map { "\($0.threads)t [\(Self.list($0.train))]" }.joined(separator: " ")
                + ", infer " + results.map { "\($0.threads)t [\(Self.list($0.infer))]" }.joined(separator: " "))
            if counts.count > 1, let low = counts.min(), let high = counts.max(), low != high {
                // Per repeat (the two were measured back to back), then the median.
                let trainRatio = TrainingThroughput.median(zip(train[high]!, train[low]!).map { $0 / $1 })
                let inferRatio = TrainingThroughput.median(zip(infer[high]!, infer[low]!).map { $0 / $1 })
                print(String(format: "  scaling %d threads / %d thread%@: train %.2fx, infer %.2fx",
                             high, low, low == 1 ? "" : "s", trainRatio, inferRatio))
            }
            print(String(format: "  peak RSS (process so far): %.0f MB", Double(TrainingBenchmark.peakResidentBytes()) / 1e6))
            summary.append(results.last!)
        }

        try report(summary, anchors: anchorFile)
    }

    /// The comparison table against the anchors, the chart and the JSON, from the results at the
    /// last thread count.
    func report(_ summary: [TrainingThroughput], anchors: ThroughputChart.AnchorFile?) throws {
        let threads = summary.first?.threads ?? Runtime.threads
        let peregrine = ThroughputChart.Series(
            name: "Peregrine (\(threads) threads)",
            results: Dictionary(uniqueKeysWithValues: summary.map {
                ($0.workload.rawValue, ThroughputChart.Rates(train: $0.trainMedian, infer: $0.inferMedian))
            }))
        if let json {
            let file = ThroughputChart.AnchorFile(description: "peregrine bench train, medians", anchors: [peregrine])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(file).write(to: URL(fileURLWithPath: json))
            print("\nwrote \(json)")
        }
        guard let anchors else { return }
        print("\nagainst the anchors (\(anchors.description ?? "no description")):")
        let names = anchors.anchors.map(\.name)
        print("  workload  phase   Peregrine  " + names.map { Self.pad($0, 14) }.joined() + "vs faster  % peak")
        for result in summary {
            for phase in ThroughputChart.Phase.allCases {
                let mine = phase == .train ? result.trainMedian : result.inferMedian
                let theirs = anchors.anchors.map { series -> Double? in
                    series.results[result.workload.rawValue].map { phase == .train ? $0.train : $0.infer }
                }
                let faster = theirs.compactMap { $0 }.max()
                let efficiency = phase == .train ? result.trainEfficiency : result.inferEfficiency
                var line = "  " + Self.pad(result.workload.rawValue, 10) + Self.pad(phase.rawValue, 8)
                line += Self.pad(String(format: "%.0f", mine), 11)
                line += theirs.map { Self.pad($0.map { String(format: "%.0f", $0) } ?? "-", 14) }.joined()
                line += Self.pad(faster.map { String(format: "%.2fx", mine / $0) } ?? "-", 11)
                line += String(format: "%.1f%%", 100 * efficiency)
                print(line)
            }
        }
        if let svg {
            try ThroughputChart(subject: peregrine, anchors: anchors.anchors).write(to: svg)
            print("wrote \(svg)")
        }
    }

    static func mflop(_ flops: Double) -> String { String(format: "%.2f", flops * 1e-6) }
    static func list(_ values: [Double]) -> String { values.map { String(format: "%.0f", $0) }.joined(separator: " ") }
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

import ArgumentParser
import Foundation
import Peregrine

/// `peregrine bench …`: throughput of the kernels, as ratios measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernel throughput against this machine's FMA peak and OpenBLAS.",
        subcommands: [GEMMBenchCommand.self, ConvBenchCommand.self, PoolBenchCommand.self, BatchNormBenchCommand.self, LSTMBenchCommand.self, TrainBenchCommand.self])
}

/// `peregrine bench gemm`: GFLOP/s of the native GEMM (and of OpenBLAS in builds with the
/// `OpenBLAS` trait) on the squares and the products training runs.
struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of ck_sgemm (and OpenBLAS, with a ratio column, when built with it).")

    @Option(help: "Threads for both backends (default: OMP_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Samples per measurement; the best is reported.")
    var samples: Int = 5

    @Option(
        name: .customLong("shape"),
        help: "Extra product to measure, as MxNxK or MxNxK:TN (transpose flags of A, B). Repeatable.")
    var shapes: [String] = []

    @Flag(help: "Only the extra --shape products.")
    var onlyShapes = false

    func run() throws {
        if let threads {
            guard threads > 0 else {
                throw ValidationError("--threads expects a positive count, got \(threads)")
            }
            Runtime.threads = threads  // OpenBLAS's threads too
        }
        var problems = try shapes.map(Self.parse)
        if !onlyShapes { problems = GEMMProblem.squares + GEMMProblem.trainingShapes + problems }

        let withOpenBLAS = GEMM.availableBackends.contains(.openBLAS)
        let peak = Runtime.measureFMAPeak(threads: Runtime.threads)
        print(
            "gemm: \(Runtime.threads) threads, isa \(Runtime.isa), "
                + "fp32 FMA peak \(Self.format(peak)) GFLOP/s (measured now)")
        var header = Self.pad("shape", 22) + Self.lpad("native", 10)
        if withOpenBLAS { header += Self.lpad("openblas", 10) + Self.lpad("ratio", 8) }
        header += Self.lpad("% peak", 8)
        print(header + "   (GFLOP/s)")
        for problem in problems {
            let bench = GEMMBenchmark(problem: problem)
            var line = Self.pad(problem.description, 22)
            // Interleave the backends so that drift on a shared machine hits both alike.
            var native = 0.0
            var openBLAS = 0.0
            for _ in 0..<2 {
                native = max(native, bench.gflops(backend: .native, samples: samples))
                if withOpenBLAS {
                    openBLAS = max(openBLAS, bench.gflops(backend: .openBLAS, samples: samples))
                }
            }
            line += Self.lpad(Self.format(native), 10)
            if withOpenBLAS {
                line += Self.lpad(Self.format(openBLAS), 10)
                line += Self.lpad(String(format: "%.2fx", native / openBLAS), 8)
            }
            line += Self.lpad(String(format: "%.0f%%", 100 * native / peak), 8)
            print(line)
        }
        // A transient load on a shared machine lowers a peak measurement, never raises it.
        let peakAfter = Runtime.measureFMAPeak(threads: Runtime.threads)
        if peakAfter > peak * 1.05 {
            print("(FMA peak re-measured after the table: \(Self.format(peakAfter)) GFLOP/s; "
                + "the % peak column used the lower first measurement)")
        }
        if !withOpenBLAS {
            print("(native only: build with `--traits OpenBLAS` for the OpenBLAS column and ratio)")
        } else if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil {
            // Debian's OpenBLAS 0.3.21 does not know recent Xeons and falls back to its SSE3
            // (Prescott) kernels there: a baseline several times too weak.
            print("(OPENBLAS_CORETYPE unset: on CPUs OpenBLAS 0.3.21 does not recognise it runs its "
                + "generic kernels; set OPENBLAS_CORETYPE=SkylakeX (AVX-512) for a fair baseline)")
        } else {
            print("(OpenBLAS core type \(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]!))")
        }
    }

    static func parse(_ text: String) throws -> GEMMProblem {
        let parts = text.split(separator: ":")
        let dims = parts.first.map { $0.split(separator: "x").compactMap { Int($0) } } ?? []
        let flags = parts.count > 1 ? Array(parts[1].uppercased()) : ["N", "N"]
        guard parts.count <= 2, dims.count == 3, dims.allSatisfy({ $0 >= 0 }), flags.count == 2,
            flags.allSatisfy({ $0 == "N" || $0 == "T" })
        else {
            throw ValidationError("--shape expects MxNxK or MxNxK:TN (e.g. 128x10x512:NN), got '\(text)'")
        }
        return GEMMProblem(
            m: dims[0], n: dims[1], k: dims[2], transA: flags[0] == "T", transB: flags[1] == "T")
    }

    static func format(_ gflops: Double) -> String { String(format: "%.1f", gflops) }
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
    static func lpad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }
}

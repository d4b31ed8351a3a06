// swift-tools-version: 6.2
//
// Peregrine's throughput benchmarks: a nested package so that users of the library never resolve
// package-benchmark. It depends on the root by path, with the OpenBLAS trait on, so every suite
// can measure the native kernels and OpenBLAS side by side in one process.
//
//   cd Benchmarks && swift package benchmark            # all suites
//   swift package benchmark --filter "GEMM.*"          # one suite
import PackageDescription

let package = Package(
    name: "PeregrineBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Peregrine", path: "..", traits: ["OpenBLAS"]),
        .package(
            url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1",
            traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "GEMMBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Peregrine", package: "Peregrine"),
            ],
            path: "Benchmarks/GEMMBenchmarks",
            // Swift 5 mode, as the framework itself builds: its closures capture non-Sendable
            // fixtures (operand buffers) that only one benchmark thread ever touches.
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
        .executableTarget(
            name: "LayerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Peregrine", package: "Peregrine"),
            ],
            path: "Benchmarks/LayerBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
        .executableTarget(
            name: "RecurrentBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Peregrine", package: "Peregrine"),
            ],
            path: "Benchmarks/RecurrentBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
        .executableTarget(
            name: "WorkloadBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Peregrine", package: "Peregrine"),
            ],
            path: "Benchmarks/WorkloadBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
    ]
)

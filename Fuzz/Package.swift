// swift-tools-version: 6.2
//
// libFuzzer harnesses for Peregrine's parsers of untrusted files: the IDX (MNIST) reader, the
// safetensors reader, the JSON parser under both headers and model configs, and the rebuilding
// of models from a saved architecture. A nested package that depends on the root by path, so
// the library's own `swift build` never sees it. The harnesses only link with the fuzzer's main:
// build them with
//
//   cd Fuzz
//   swift build -c release --scratch-path .build \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
//       -Xcc -fsanitize=fuzzer-no-link,address
//
// See README.md for running them.
import PackageDescription

let package = Package(
    name: "PeregrineFuzz",
    dependencies: [
        .package(name: "Peregrine", path: ".."),
    ],
    targets: [
        // The fuzzers' main functions (SwiftPM's renamed entry points), calling libFuzzer.
        .target(name: "FuzzMain", path: "Sources/FuzzMain"),
        .executableTarget(
            name: "FuzzIDX",
            dependencies: ["FuzzMain", .product(name: "Peregrine", package: "Peregrine")],
            path: "Sources/FuzzIDX"),
        .executableTarget(
            name: "FuzzSafeTensors",
            dependencies: ["FuzzMain", .product(name: "Peregrine", package: "Peregrine")],
            path: "Sources/FuzzSafeTensors"),
        .executableTarget(
            name: "FuzzModelArchitecture",
            dependencies: ["FuzzMain", .product(name: "Peregrine", package: "Peregrine")],
            path: "Sources/FuzzModelArchitecture"),
        .executableTarget(
            name: "FuzzJSON",
            dependencies: ["FuzzMain", .product(name: "Peregrine", package: "Peregrine")],
            path: "Sources/FuzzJSON"),
    ]
)

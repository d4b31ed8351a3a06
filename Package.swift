// swift-tools-version: 6.2
//
// Peregrine: Keras's programming model in Swift over hand-written C kernels.
//
// Why 6.2: the C kernels need no unsafe flags today, but a 6.1 manifest with any unsafe flag
// cannot be a versioned dependency, and traits (the OpenBLAS build flag) need 6.1+ anyway.
import PackageDescription

let package = Package(
    name: "Peregrine",
    products: [
        .library(name: "Peregrine", targets: ["Peregrine"]),
        .library(name: "CKernels", targets: ["CKernels"]),
        .executable(name: "peregrine", targets: ["PeregrineCLI"]),
    ],
    traits: [
        .trait(
            name: "OpenBLAS",
            description: "Route the Swift layer's GEMM to the system OpenBLAS (libopenblas-dev); "
                + "PEREGRINE_GEMM=native|openblas then picks the backend at run time."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // All hand-written kernels. Threads come from the OpenMP runtime's GNU entry points
        // (GOMP_parallel), so no -fopenmp and no unsafe flags are needed: libgomp ships with gcc.
        .target(
            name: "CKernels",
            path: "CKernels",
            linkerSettings: [.linkedLibrary("gomp"), .linkedLibrary("m")]),
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "Peregrine",
            dependencies: [
                "CKernels", "CZlib",
                .target(name: "COpenBLAS", condition: .when(traits: ["OpenBLAS"])),
            ],
            swiftSettings: [.define("PEREGRINE_OPENBLAS", .when(traits: ["OpenBLAS"]))]),
        // Runs Keras's reference cases (../shared/keras-reference): used by the CLI and the tests,
        // kept out of the Peregrine product.
        .target(name: "PeregrineConformance", dependencies: ["Peregrine"]),
        .executableTarget(
            name: "PeregrineCLI",
            dependencies: [
                "Peregrine", "CKernels", "PeregrineConformance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"]),
        .testTarget(
            name: "PeregrineTests", dependencies: ["Peregrine", "CKernels", "PeregrineConformance"]),
    ]
)

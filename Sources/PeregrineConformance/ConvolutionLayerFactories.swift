import Peregrine

/// Constructors of the convolution, pooling and normalization layers from Keras configs.
enum ConvolutionLayerFactories {
    static let all: [String: @Sendable (JSONValue) throws -> Layer] = [
        "Conv2D": { config in
            Conv2D(
                filters: try int(config, "filters"),
                kernelSize: try required(intPair(config, "kernel_size"), "kernel_size"),
                strides: try intPair(config, "strides") ?? (1, 1),
                padding: try Padding(named: config["padding"]?.string ?? "valid"),
                dilationRate: try intPair(config, "dilation_rate") ?? (1, 1),
                groups: config["groups"]?.number.map { Int($0) } ?? 1,
                activation: try ActivationFunction(named: config["activation"]?.string ?? "linear"),
                useBias: config["use_bias"]?.bool ?? true)
        },
        "MaxPooling2D": { config in
            MaxPooling2D(
                poolSize: try intPair(config, "pool_size") ?? (2, 2),
                strides: try intPair(config, "strides"),
                padding: try Padding(named: config["padding"]?.string ?? "valid"))
        },
        "AveragePooling2D": { config in
            AveragePooling2D(
                poolSize: try required(intPair(config, "pool_size"), "pool_size"),
                strides: try intPair(config, "strides"),
                padding: try Padding(named: config["padding"]?.string ?? "valid"))
        },
        "GlobalAveragePooling2D": { config in
            GlobalAveragePooling2D(keepDims: config["keepdims"]?.bool ?? false)
        },
        "GlobalMaxPooling2D": { config in
            GlobalMaxPooling2D(keepDims: config["keepdims"]?.bool ?? false)
        },
        "BatchNormalization": { config in
            BatchNormalization(
                axis: config["axis"]?.number.map { Int($0) } ?? -1,
                momentum: Float(config["momentum"]?.number ?? 0.99),
                epsilon: Float(config["epsilon"]?.number ?? 1e-3),
                center: config["center"]?.bool ?? true,
                scale: config["scale"]?.bool ?? true)
        },
    ]

    /// A config value Keras requires (`kernel_size`, AveragePooling2D's `pool_size`).
    private static func required<T>(_ value: T?, _ key: String) throws -> T {
        guard let value else { throw ReferenceCaseError(description: "config: '\(key)' is required") }
        return value
    }
}

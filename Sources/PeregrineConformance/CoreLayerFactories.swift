import Peregrine

/// Constructors of the core layers from Keras configs.
enum CoreLayerFactories {
    static let all: [String: @Sendable (JSONValue) throws -> Layer] = [
        "Dense": { config in
            Dense(
                units: try int(config, "units"),
                activation: try activation(config),
                useBias: config["use_bias"]?.bool ?? true)
        },
        "Activation": { config in Activation(try activation(config)) },
        "Flatten": { _ in Flatten() },
        "Reshape": { config in
            guard let target = config["target_shape"]?.array?.compactMap({ $0.number.map { Int($0) } }) else {
                throw ReferenceCaseError(description: "config: expected a list 'target_shape'")
            }
            return Reshape(targetShape: target)
        },
        "Dropout": { config in
            Dropout(
                rate: Float(config["rate"]?.number ?? 0),
                seed: config["seed"]?.number.map { UInt64($0) })
        },
        "Embedding": { config in
            Embedding(
                inputDim: try int(config, "input_dim"), outputDim: try int(config, "output_dim"),
                maskZero: config["mask_zero"]?.bool ?? false)
        },
        "Concatenate": { config in Concatenate(axis: config["axis"]?.number.map { Int($0) } ?? -1) },
        "Add": { _ in Add() },
    ]

    /// The `activation` config value (absent or null: linear).
    static func activation(_ config: JSONValue) throws -> ActivationFunction {
        try ActivationFunction(named: config["activation"]?.string ?? "linear")
    }
}

/// A required integer config value.
func int(_ config: JSONValue, _ key: String) throws -> Int {
    guard let value = config[key]?.number, value == value.rounded() else {
        throw ReferenceCaseError(description: "config: expected an integer '\(key)'")
    }
    return Int(value)
}

/// An integer pair config value (`kernel_size: [3, 3]`), or a single integer used twice.
func intPair(_ config: JSONValue, _ key: String) throws -> (Int, Int)? {
    if let single = config[key]?.number { return (Int(single), Int(single)) }
    guard let list = config[key]?.array else { return nil }
    let values = list.compactMap { $0.number.map { Int($0) } }
    guard values.count == 2 else {
        throw ReferenceCaseError(description: "config: expected two integers for '\(key)'")
    }
    return (values[0], values[1])
}

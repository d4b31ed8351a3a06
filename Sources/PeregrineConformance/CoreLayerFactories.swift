import Peregrine

/// Constructors of the core layers from Keras configs.
enum CoreLayerFactories {
    static let all: [String: @Sendable (JSONValue) throws -> Layer] = [
        "Dense": { config in
            Dense(
                units: try int(config, "units"),
                activation: try ActivationFunction(named: config["activation"]?.string ?? "linear"),
                useBias: config["use_bias"]?.bool ?? true)
        },
    ]
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

/// Layers ↔ Keras configs: the one place that turns a layer into Keras's `get_config()`
/// dictionary and a Keras class name plus config back into a layer. ``Model/save(to:)`` and
/// ``Model/load(from:)`` store architectures with it; the conformance runner builds every
/// reference case's layer with it.
///
/// Keys and values are Keras's: `units`, `activation` (Keras's name, `"relu"`), `use_bias`,
/// `kernel_size` (`[3, 3]`), `padding` (`"same"`), …; absent keys take Keras's defaults.
/// Initializers are not part of the config (a loaded model gets its weights from the file).
///
/// ```swift
/// let dense = Dense(units: 64, activation: .relu, name: "hidden")
/// let config = try dense.kerasConfig()
/// // {"name":"hidden","trainable":true,"units":64,"activation":"relu","use_bias":true}
/// let copy = try Layer.fromKerasConfig(className: "Dense", config: config)   // a Dense named hidden
/// ```
extension Layer {
    /// This layer's Keras config: `name`, `trainable` and the constructor arguments, as Keras's
    /// `layer.get_config()` names them. Throws for layer classes that have no config mapping
    /// (custom subclasses, models nested as layers).
    ///
    /// ```swift
    /// try Conv2D(filters: 8, kernelSize: 3, padding: .same).kerasConfig()["kernel_size"]   // [3,3]
    /// ```
    public func kerasConfig() throws -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("name", JSONValue(name)), ("trainable", JSONValue(trainable))]
        func put(_ key: String, _ value: JSONValue) { members.append((key, value)) }
        /// The options SimpleRNN, LSTM and GRU share (``RecurrentLayer``).
        func putRecurrentOptions(_ layer: RecurrentLayer) {
            put("use_bias", JSONValue(layer.useBias))
            put("return_sequences", JSONValue(layer.returnSequences))
            put("return_state", JSONValue(layer.returnState))
            put("go_backwards", JSONValue(layer.goBackwards))
            put("dropout", JSONValue(layer.dropout))
            put("recurrent_dropout", JSONValue(layer.recurrentDropout))
            put("stateful", JSONValue(layer.stateful))
            put("seed", layer.seed.map { .number(String($0)) } ?? .null)
        }
        func pair(_ p: (Int, Int)) -> JSONValue { [JSONValue(p.0), JSONValue(p.1)] }
        switch self {
        case let layer as InputLayer:
            put("batch_shape", .array([.null] + layer.shape.map { JSONValue($0) }))
            put("dtype", "float32")
            put("sparse", false)
        case let layer as Dense:
            put("units", JSONValue(layer.units))
            put("activation", layer.activation.kerasConfigValue)
            put("use_bias", JSONValue(layer.useBias))
        case let layer as Conv2D:
            put("filters", JSONValue(layer.filters))
            put("kernel_size", pair(layer.kernelSize))
            put("strides", pair(layer.strides))
            put("padding", JSONValue(layer.padding.rawValue))
            put("data_format", "channels_last")
            put("dilation_rate", pair(layer.dilationRate))
            put("groups", JSONValue(layer.groups))
            put("activation", layer.activation.kerasConfigValue)
            put("use_bias", JSONValue(layer.useBias))
        case let layer as MaxPooling2D:
            put("pool_size", pair(layer.poolSize))
            put("strides", pair(layer.strides))
            put("padding", JSONValue(layer.padding.rawValue))
            put("data_format", "channels_last")
        case let layer as AveragePooling2D:
            put("pool_size", pair(layer.poolSize))
            put("strides", pair(layer.strides))
            put("padding", JSONValue(layer.padding.rawValue))
            put("data_format", "channels_last")
        case let layer as GlobalAveragePooling2D:
            put("data_format", "channels_last")
            put("keepdims", JSONValue(layer.keepDims))
        case let layer as GlobalMaxPooling2D:
            put("data_format", "channels_last")
            put("keepdims", JSONValue(layer.keepDims))
        case let layer as BatchNormalization:
            put("axis", JSONValue(layer.axis))
            put("momentum", JSONValue(layer.momentum))
            put("epsilon", JSONValue(layer.epsilon))
            put("center", JSONValue(layer.center))
            put("scale", JSONValue(layer.scale))
        case let layer as Dropout:
            put("rate", JSONValue(layer.rate))
            put("seed", layer.seed.map { .number(String($0)) } ?? .null)
            put("noise_shape", layer.noiseShape.map { .array($0.map { $0.map { JSONValue($0) } ?? .null }) } ?? .null)
        case let layer as Embedding:
            put("input_dim", JSONValue(layer.inputDim))
            put("output_dim", JSONValue(layer.outputDim))
            put("mask_zero", JSONValue(layer.maskZero))
        case is Flatten:
            put("data_format", "channels_last")
        case let layer as Reshape:
            put("target_shape", .array(layer.targetShape.map { JSONValue($0) }))
        case let layer as Activation:
            put("activation", layer.activation.kerasConfigValue)
        case let layer as Concatenate:
            put("axis", JSONValue(layer.axis))
        case is Add:
            break
        case let layer as SimpleRNN:
            put("units", JSONValue(layer.units))
            put("activation", layer.activation.kerasConfigValue)
            putRecurrentOptions(layer)
        case let layer as LSTM:
            put("units", JSONValue(layer.units))
            put("activation", layer.activation.kerasConfigValue)
            put("recurrent_activation", layer.recurrentActivation.kerasConfigValue)
            put("unit_forget_bias", JSONValue(layer.unitForgetBias))
            putRecurrentOptions(layer)
        case let layer as GRU:
            put("units", JSONValue(layer.units))
            put("activation", layer.activation.kerasConfigValue)
            put("recurrent_activation", layer.recurrentActivation.kerasConfigValue)
            put("reset_after", JSONValue(layer.resetAfter))
            putRecurrentOptions(layer)
        default:
            throw PeregrineError.invalidArgument(
                operation: "kerasConfig of \(name)",
                expected: "a layer class with a Keras config (\(Layer.configurableClassNames.joined(separator: ", ")))",
                actual: "\(type(of: self)) (\(Self.kerasClassName))")
        }
        return .object(members)
    }

    /// The Keras class names ``fromKerasConfig(className:config:)`` builds.
    ///
    /// ```swift
    /// Layer.configurableClassNames.contains("LSTM")   // true
    /// ```
    public static let configurableClassNames = [
        "InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
        "GlobalMaxPooling2D", "BatchNormalization", "Dropout", "Embedding", "Flatten", "Reshape",
        "Activation", "Concatenate", "Add", "SimpleRNN", "LSTM", "GRU",
    ]

    /// A new, unbuilt layer of Keras class `className` from its Keras config (as Keras's
    /// `get_config()` writes it, or ``kerasConfig()``); absent keys take Keras's defaults,
    /// `name` and `trainable` are restored when present.
    ///
    /// Throws ``PeregrineError`` naming the class and the key for an unknown class name, a
    /// config that is not an object, a missing required key (`units`, `filters`,
    /// `kernel_size`, …), or a value of the wrong type or out of range.
    ///
    /// ```swift
    /// let config = try JSONValue(parsing: #"{"filters": 8, "kernel_size": [3, 3], "padding": "same"}"#)
    /// let conv = try Layer.fromKerasConfig(className: "Conv2D", config: config)
    /// ```
    public static func fromKerasConfig(className: String, config: JSONValue) throws -> Layer {
        let c = try KerasConfigReader(className: className, config: config)
        let name = try c.optionalString("name")
        let layer: Layer
        switch className {
        case "InputLayer":
            let shape: [Int]
            if let batchShape = c.config["batch_shape"], !batchShape.isNull {
                guard let dims = batchShape.array, !dims.isEmpty else {
                    throw c.error("batch_shape", "a list [null, dims…]", batchShape)
                }
                shape = try dims.dropFirst().map { try c.dimension($0, key: "batch_shape") }
            } else {
                shape = try c.requiredIntList("shape")
            }
            layer = InputLayer(shape: shape, name: name)
        case "Dense":
            layer = Dense(
                units: try c.positiveInt("units"), activation: try c.activation("activation", default: .linear),
                useBias: try c.bool("use_bias", default: true), name: name)
        case "Conv2D":
            try c.requireChannelsLast()
            layer = Conv2D(
                filters: try c.positiveInt("filters"), kernelSize: try c.requiredPair("kernel_size"),
                strides: try c.pair("strides") ?? (1, 1), padding: try c.padding(),
                dilationRate: try c.pair("dilation_rate") ?? (1, 1), groups: try c.int("groups", default: 1),
                activation: try c.activation("activation", default: .linear),
                useBias: try c.bool("use_bias", default: true), name: name)
        case "MaxPooling2D":
            try c.requireChannelsLast()
            layer = MaxPooling2D(
                poolSize: try c.pair("pool_size") ?? (2, 2), strides: try c.pair("strides"),
                padding: try c.padding(), name: name)
        case "AveragePooling2D":
            try c.requireChannelsLast()
            layer = AveragePooling2D(
                poolSize: try c.requiredPair("pool_size"), strides: try c.pair("strides"),
                padding: try c.padding(), name: name)
        case "GlobalAveragePooling2D":
            try c.requireChannelsLast()
            layer = GlobalAveragePooling2D(keepDims: try c.bool("keepdims", default: false), name: name)
        case "GlobalMaxPooling2D":
            try c.requireChannelsLast()
            layer = GlobalMaxPooling2D(keepDims: try c.bool("keepdims", default: false), name: name)
        case "BatchNormalization":
            layer = BatchNormalization(
                axis: try c.int("axis", default: -1), momentum: try c.float("momentum", default: 0.99),
                epsilon: try c.float("epsilon", default: 1e-3), center: try c.bool("center", default: true),
                scale: try c.bool("scale", default: true), name: name)
        case "Dropout":
            let rate = try c.float("rate", default: 0)
            guard rate >= 0, rate < 1 else { throw c.error("rate", "a rate in [0, 1)", c.config["rate"]) }
            layer = Dropout(rate: rate, noiseShape: try c.noiseShape(), seed: try c.seed(), name: name)
        case "Embedding":
            layer = Embedding(
                inputDim: try c.positiveInt("input_dim"), outputDim: try c.positiveInt("output_dim"),
                maskZero: try c.bool("mask_zero", default: false), name: name)
        case "Flatten":
            try c.requireChannelsLast()
            layer = Flatten(name: name)
        case "Reshape":
            layer = Reshape(targetShape: try c.requiredIntList("target_shape"), name: name)
        case "Activation":
            guard c.config["activation"] != nil else { throw c.error("activation", "an activation name", nil) }
            layer = Activation(try c.activation("activation", default: .linear), name: name)
        case "Concatenate":
            layer = Concatenate(axis: try c.int("axis", default: -1), name: name)
        case "Add":
            layer = Add(name: name)
        case "SimpleRNN":
            layer = SimpleRNN(
                units: try c.positiveInt("units"), activation: try c.activation("activation", default: .tanh),
                useBias: try c.bool("use_bias", default: true),
                returnSequences: try c.bool("return_sequences", default: false),
                returnState: try c.bool("return_state", default: false),
                goBackwards: try c.bool("go_backwards", default: false), dropout: try c.float("dropout", default: 0),
                recurrentDropout: try c.float("recurrent_dropout", default: 0),
                stateful: try c.bool("stateful", default: false), seed: try c.seed(), name: name)
        case "LSTM":
            layer = LSTM(
                units: try c.positiveInt("units"), activation: try c.activation("activation", default: .tanh),
                recurrentActivation: try c.activation("recurrent_activation", default: .sigmoid),
                useBias: try c.bool("use_bias", default: true),
                unitForgetBias: try c.bool("unit_forget_bias", default: true),
                returnSequences: try c.bool("return_sequences", default: false),
                returnState: try c.bool("return_state", default: false),
                goBackwards: try c.bool("go_backwards", default: false), dropout: try c.float("dropout", default: 0),
                recurrentDropout: try c.float("recurrent_dropout", default: 0),
                stateful: try c.bool("stateful", default: false), seed: try c.seed(), name: name)
        case "GRU":
            layer = GRU(
                units: try c.positiveInt("units"), activation: try c.activation("activation", default: .tanh),
                recurrentActivation: try c.activation("recurrent_activation", default: .sigmoid),
                useBias: try c.bool("use_bias", default: true),
                returnSequences: try c.bool("return_sequences", default: false),
                returnState: try c.bool("return_state", default: false),
                goBackwards: try c.bool("go_backwards", default: false),
                resetAfter: try c.bool("reset_after", default: true), dropout: try c.float("dropout", default: 0),
                recurrentDropout: try c.float("recurrent_dropout", default: 0),
                stateful: try c.bool("stateful", default: false), seed: try c.seed(), name: name)
        default:
            throw PeregrineError.invalidArgument(
                operation: "Layer.fromKerasConfig",
                expected: "a Keras class name Peregrine builds (\(configurableClassNames.joined(separator: ", ")))",
                actual: "'\(className)'")
        }
        layer.trainable = try c.bool("trainable", default: true)
        return layer
    }
}

extension ActivationFunction {
    /// The activation as a config value: Keras's name, or for a non-default parameter an object
    /// `{"name": "leaky_relu", "negative_slope": 0.1}` (read back by the config reader).
    var kerasConfigValue: JSONValue {
        switch self {
        case let .gelu(approximate) where approximate:
            return ["name": "gelu", "approximate": true]
        case let .elu(alpha) where alpha != 1:
            return ["name": "elu", "alpha": JSONValue(alpha)]
        case let .leakyRelu(slope) where slope != 0.2:
            return ["name": "leaky_relu", "negative_slope": JSONValue(slope)]
        case let .celu(alpha) where alpha != 1:
            return ["name": "celu", "alpha": JSONValue(alpha)]
        case let .hardShrink(threshold) where threshold != 0.5:
            return ["name": "hard_shrink", "threshold": JSONValue(threshold)]
        case let .softShrink(threshold) where threshold != 0.5:
            return ["name": "soft_shrink", "threshold": JSONValue(threshold)]
        case let .squareplus(b) where b != 4:
            return ["name": "squareplus", "b": JSONValue(b)]
        case let .threshold(threshold, value):
            return ["name": "threshold", "threshold": JSONValue(threshold), "default_value": JSONValue(value)]
        default:
            return JSONValue(description)
        }
    }
}

/// Typed, checked reads of one layer config; every error names the class and the key.
struct KerasConfigReader {
    let className: String
    let config: JSONValue

    init(className: String, config: JSONValue) throws {
        self.className = className
        self.config = config
        guard config.members != nil else {
            throw PeregrineError.invalidArgument(
                operation: "\(className) config", expected: "a JSON object", actual: config.kind)
        }
    }

    func error(_ key: String, _ expected: String, _ value: JSONValue?) -> PeregrineError {
        PeregrineError.invalidArgument(
            operation: "\(className) config '\(key)'", expected: expected, actual: value?.kind ?? "no value")
    }

    /// The value, nil when absent or null.
    private func value(_ key: String) -> JSONValue? {
        guard let value = config[key], !value.isNull else { return nil }
        return value
    }

    func int(_ key: String, default fallback: Int) throws -> Int {
        guard let value = value(key) else { return fallback }
        guard let int = value.int else { throw error(key, "an integer", value) }
        return int
    }

    func positiveInt(_ key: String) throws -> Int {
        guard let value = value(key) else { throw error(key, "a positive integer (required)", nil) }
        guard let int = value.int, int > 0 else { throw error(key, "a positive integer", value) }
        return int
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = value(key) else { return fallback }
        guard let bool = value.bool else { throw error(key, "true or false", value) }
        return bool
    }

    func float(_ key: String, default fallback: Float) throws -> Float {
        guard let value = value(key) else { return fallback }
        guard let number = value.number, number.isFinite else { throw error(key, "a number", value) }
        return Float(number)
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let string = value.string else { throw error(key, "a string", value) }
        return string
    }

    func dimension(_ value: JSONValue, key: String) throws -> Int {
        guard let int = value.int, int > 0 else { throw error(key, "positive integer dimensions", value) }
        return int
    }

    /// Keras's `noise_shape`: null, or a list of positive integers and nulls.
    func noiseShape() throws -> [Int?]? {
        guard let value = value("noise_shape") else { return nil }
        guard let items = value.array else { throw error("noise_shape", "a list of integers and nulls", value) }
        return try items.map { item -> Int? in
            if item.isNull { return nil }
            guard let int = item.int, int > 0 else { throw error("noise_shape", "positive integers or nulls", value) }
            return int
        }
    }

    func requiredIntList(_ key: String) throws -> [Int] {
        guard let value = value(key) else { throw error(key, "a list of integers (required)", nil) }
        guard let list = value.array else { throw error(key, "a list of integers", value) }
        return try list.map { element in
            guard let int = element.int else { throw error(key, "a list of integers", element) }
            return int
        }
    }

    /// `[a, b]`, or one integer used twice; nil when absent or null.
    func pair(_ key: String) throws -> (Int, Int)? {
        guard let value = value(key) else { return nil }
        if let single = value.int, single > 0 { return (single, single) }
        guard let list = value.array, list.count == 2, let a = list[0].int, let b = list[1].int, a > 0, b > 0 else {
            throw error(key, "two positive integers", value)
        }
        return (a, b)
    }

    func requiredPair(_ key: String) throws -> (Int, Int) {
        guard let pair = try pair(key) else { throw error(key, "two positive integers (required)", nil) }
        return pair
    }

    func padding() throws -> Padding {
        guard let name = try optionalString("padding") else { return .valid }
        guard let padding = Padding(rawValue: name.lowercased()) else {
            throw error("padding", "\"valid\" or \"same\"", config["padding"])
        }
        return padding
    }

    func requireChannelsLast() throws {
        if let format = try optionalString("data_format"), format != "channels_last" {
            throw error("data_format", "\"channels_last\" (the only layout Peregrine implements)", config["data_format"])
        }
    }

    func seed() throws -> UInt64? {
        guard let value = value("seed") else { return nil }
        guard case let .number(text) = value, let seed = UInt64(text) ?? value.int.flatMap(UInt64.init(exactly:)) else {
            throw error("seed", "a non-negative integer", value)
        }
        return seed
    }

    /// A Keras activation name, or `{"name": …, parameter: …}` as ``ActivationFunction/kerasConfigValue`` writes.
    func activation(_ key: String, default fallback: ActivationFunction) throws -> ActivationFunction {
        guard let value = value(key) else { return fallback }
        do {
            if let name = value.string { return try ActivationFunction(named: name) }
            guard let name = value["name"]?.string else { throw error(key, "an activation name", value) }
            let parameter = { (k: String) -> Float? in value[k]?.number.map(Float.init) }
            switch name {
            case "gelu": return .gelu(approximate: value["approximate"]?.bool ?? false)
            case "elu": return .elu(alpha: parameter("alpha") ?? 1)
            case "leaky_relu": return .leakyRelu(negativeSlope: parameter("negative_slope") ?? 0.2)
            case "celu": return .celu(alpha: parameter("alpha") ?? 1)
            case "hard_shrink": return .hardShrink(threshold: parameter("threshold") ?? 0.5)
            case "soft_shrink": return .softShrink(threshold: parameter("threshold") ?? 0.5)
            case "squareplus": return .squareplus(b: parameter("b") ?? 4)
            case "threshold":
                guard let threshold = parameter("threshold"), let value = parameter("default_value") else {
                    throw error(key, "threshold with 'threshold' and 'default_value'", value)
                }
                return .threshold(threshold: threshold, defaultValue: value)
            default: return try ActivationFunction(named: name)
            }
        } catch let error as PeregrineError where error.description.hasPrefix("activation:") {
            throw self.error(key, "a Keras activation name", value)
        }
    }
}

import Synchronization

/// The base of every layer: Keras's `Layer` — a name, weights in Keras's order, a `build` on
/// first call, and a differentiable `call`.
///
/// Shapes a layer sees in `build` and `outputShapes` are per sample, without the batch axis
/// (Keras's `(None, …)` with the `None` dropped): Dense on `[batch, 784]` builds with `[784]`.
///
/// Subclasses override ``build(inputShapes:)``, ``call(_:training:)`` and
/// ``outputShapes(forInputShapes:)``, and create weights with ``addWeight(_:shape:initializer:trainable:)``.
///
/// ```swift
/// let dense = Dense(units: 4, activation: .relu)
/// let y = try dense(try Tensor.ones([2, 3]))   // builds a [3, 4] kernel, then [2, 4]
/// dense.weights.map(\.path)                     // ["dense/kernel", "dense/bias"]
/// ```
open class Layer: @unchecked Sendable {
    // @unchecked: a layer's weights and build state change while a model trains; like Keras
    // layers, one is used by one training loop at a time (inference on a built layer only reads).

    /// The unique name, e.g. `dense_1`; automatic names count per class, as Keras's do.
    public let name: String

    /// When false, the layer's weights are all non-trainable and layers with a training mode
    /// (BatchNormalization) run in inference mode.
    public var trainable: Bool = true

    /// The weights this layer created itself, in creation order.
    private var ownWeights: [Variable] = []

    /// Every weight, in Keras's order (e.g. kernel then bias; gamma, beta, moving mean,
    /// moving variance); a model lists its layers' weights layer by layer.
    open var weights: [Variable] { ownWeights }

    /// The graph nodes where this layer was called on symbolic tensors (functional API), held
    /// weakly (see ``Node``); read them through `inboundNodes`.
    var inboundNodeReferences: [WeakNode] = []

    /// Whether ``build(inputShapes:)`` has run.
    public private(set) var isBuilt = false

    /// The per-sample input shapes the layer was built for.
    public private(set) var builtInputShapes: [[Int]] = []

    /// A layer named `name`, or automatically from its class (`Dense` → `dense`, `dense_1`, …).
    public init(name: String? = nil) {
        self.name = name ?? Layer.uniqueName(for: Self.kerasClassName)
    }

    /// Keras's class name, shown by `summary()` and saved in configs (`Dense`, `MaxPooling2D`).
    open class var kerasClassName: String { String(describing: self) }

    /// Trainable weights: those marked trainable, when the layer itself is.
    open var trainableWeights: [Variable] { trainable ? ownWeights.filter(\.trainable) : [] }

    /// The other weights (moving statistics; everything when the layer is frozen).
    open var nonTrainableWeights: [Variable] {
        trainable ? ownWeights.filter { !$0.trainable } : ownWeights
    }

    /// The number of scalars in all weights (Keras's `count_params`).
    public func countParams() -> Int { weights.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// Creates the weights for these per-sample input shapes. Called once, by the first call.
    open func build(inputShapes: [[Int]]) throws {}

    /// The layer's computation on a batch. `training` selects dropout and batch statistics.
    open func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        throw PeregrineError.invalidArgument(
            operation: name, expected: "a layer that overrides call(_:training:)", actual: "\(Self.self)")
    }

    /// Per-sample output shapes for per-sample input shapes, without computing anything.
    open func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] { shapes }

    /// Adds a weight named `name` (its path becomes `layer/name`), initialised now.
    ///
    /// ```swift
    /// kernel = try addWeight("kernel", shape: [inputs, units], initializer: .glorotUniform)
    /// ```
    public func addWeight(
        _ name: String, shape: [Int], initializer: Initializer, trainable: Bool = true
    ) throws -> Variable {
        // Sizes come from configs, possibly from a file: check them before allocating.
        _ = try WeightBudget.charge(shape: shape, weight: "\(self.name)/\(name)")
        let value = try initializer(shape)
        guard value.shape == shape else {
            throw PeregrineError.shapeMismatch(
                operation: "\(self.name): initializer \(initializer.name) for \(name)",
                expected: shape, actual: value.shape)
        }
        let variable = Variable(value, name: name, trainable: trainable)
        variable.path = "\(self.name)/\(name)"
        ownWeights.append(variable)
        return variable
    }

    /// Builds on first use (checking later calls against the built shapes), then calls.
    ///
    /// ```swift
    /// let outputs = try concatenate([a, b])
    /// ```
    public func callAsFunction(_ inputs: [Tensor], training: Bool = false) throws -> [Tensor] {
        let shapes = try inputs.map { tensor -> [Int] in
            guard tensor.rank >= 1 else {
                throw PeregrineError.invalidArgument(
                    operation: name, expected: "a batch (rank >= 1)", actual: "a scalar")
            }
            return Array(tensor.shape.dropFirst())
        }
        try buildIfNeeded(inputShapes: shapes)
        let outputs = try call(inputs, training: training)
        if NumericsCheck.isOn { try NumericsCheck.checkLayer(name, outputs) }
        return outputs
    }

    /// A single-input, single-output call.
    ///
    /// ```swift
    /// let y = try Dense(units: 3)(x)
    /// ```
    public func callAsFunction(_ input: Tensor, training: Bool = false) throws -> Tensor {
        let outputs = try callAsFunction([input], training: training)
        guard outputs.count == 1 else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "one output (use the [Tensor] call)", actual: "\(outputs.count)")
        }
        return outputs[0]
    }

    /// Builds once for `inputShapes` (per sample).
    public func buildIfNeeded(inputShapes: [[Int]]) throws {
        guard !isBuilt else { return }
        try build(inputShapes: inputShapes)
        builtInputShapes = inputShapes
        isBuilt = true
    }

    // MARK: - Automatic names

    static let globalNameCounters = NameCounters()

    /// The counters automatic names come from: the process's, or a session's (see
    /// `Peregrine.withFreshSession`).
    @TaskLocal static var nameCounters: NameCounters = globalNameCounters

    /// `dense`, then `dense_1`, `dense_2`, … for each base name, process-wide (as Keras).
    static func uniqueName(for className: String) -> String {
        nameCounters.next(snakeCase(className))
    }

    /// Keras's `to_snake_case`: `MaxPooling2D` → `max_pooling2d`, `SimpleRNN` → `simple_rnn`.
    static func snakeCase(_ name: String) -> String {
        var result = ""
        let characters = Array(name)
        for (i, c) in characters.enumerated() {
            if c.isUppercase && i > 0 {
                let previous = characters[i - 1]
                let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
                // A capital starts a word after a lowercase letter, or before a lowercase one.
                if previous.isLowercase || (nextIsLower && previous != "_") { result.append("_") }
            }
            result.append(c)
        }
        return result.lowercased()
    }
}

/// Checks that a per-sample shape has the rank a layer needs.
func requireRank(_ shape: [Int], _ rank: Int, layer: String, describing: String) throws {
    guard shape.count == rank else {
        throw PeregrineError.invalidArgument(
            operation: layer, expected: "\(describing) (rank \(rank + 1) with the batch)",
            actual: "per-sample shape \(shape)")
    }
}

/// Per-base-name counters of automatic layer names.
final class NameCounters: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func next(_ base: String) -> String {
        counts.withLock { counters in
            let count = counters[base, default: 0]
            counters[base] = count + 1
            return count == 0 ? base : "\(base)_\(count)"
        }
    }

    func reset() { counts.withLock { $0 = [:] } }
}

extension Peregrine {
    /// Forgets every automatic name given so far, so the next Dense is `dense` again
    /// (Keras's `keras.backend.clear_session()`).
    ///
    /// ```swift
    /// Peregrine.clearSession()
    /// ```
    public static func clearSession() {
        Layer.globalNameCounters.reset()
        TensorBufferPool.shared.trim()   // the freed tensor buffers kept for reuse
    }

    /// Runs `body` with automatic names counted from zero and apart from the rest of the
    /// process: models built inside are named as in a fresh Keras process, whatever other
    /// threads build meanwhile.
    ///
    /// ```swift
    /// let model = try Peregrine.withFreshSession { try Sequential { Dense(units: 1) } }
    /// model.name   // "sequential"
    /// ```
    public static func withFreshSession<R>(_ body: () throws -> R) rethrows -> R {
        try Layer.$nameCounters.withValue(NameCounters()) { try body() }
    }
}

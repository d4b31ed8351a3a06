/// A plain stack of layers, each feeding the next: Keras's `Sequential`.
///
/// Start it with `Input(shape:)` to build it at once (so `summary()` shows parameter counts),
/// or let the first batch build it.
///
/// ```swift
/// let model = try Sequential {
///     Input(shape: [7])
///     Dense(units: 5, activation: .sigmoid)
///     Dense(units: 4, activation: .sigmoid)
/// }
/// model.summary()
/// ```
public final class Sequential: Model, @unchecked Sendable {
    private var stack: [Layer] = []
    private(set) var inputLayer: InputLayer?

    override public class var kerasClassName: String { "Sequential" }

    /// A stack of `layers` (an ``InputLayer`` first fixes the input shape).
    ///
    /// ```swift
    /// let model = try Sequential([InputLayer(shape: [784]), Dense(units: 10)])
    /// ```
    public init(_ layers: [Layer] = [], name: String? = nil) throws {
        super.init(name: name, deferred: ())
        for layer in layers { try add(layer, rebuild: false) }
        try rebuildIfPossible()
    }

    /// A stack written with the result builder, `Input(shape:)` allowed first.
    ///
    /// ```swift
    /// let model = try Sequential { Input(shape: [4]); Dense(units: 1) }
    /// ```
    public convenience init(name: String? = nil, @SequentialBuilder _ content: () -> [Layer]) throws {
        try self.init(content(), name: name)
    }

    /// Appends a layer (Keras's `add`); with an input shape known, the model is rebuilt at once.
    ///
    /// ```swift
    /// try model.add(Dense(units: 10, activation: .softmax))
    /// ```
    public func add(_ layer: Layer) throws { try add(layer, rebuild: true) }

    /// Starts the stack with an `Input(shape:)`.
    ///
    /// ```swift
    /// let model = try Sequential(); try model.add(Input(shape: [7]))
    /// ```
    public func add(_ input: SymbolicTensor) throws {
        guard let layer = input.layer as? InputLayer else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "an Input(shape:) or a layer", actual: "\(input)")
        }
        try add(layer, rebuild: true)
    }

    private func add(_ layer: Layer, rebuild: Bool) throws {
        if let input = layer as? InputLayer {
            guard stack.isEmpty, inputLayer == nil else {
                throw PeregrineError.invalidArgument(
                    operation: name, expected: "an InputLayer only first", actual: "\(input.name) after other layers")
            }
            inputLayer = input
        } else {
            stack.append(layer)
        }
        trainingPlans.removeAll()
        if rebuild { try rebuildIfPossible() }
    }

    /// Keras rebuilds a functional graph inside the Sequential each time a layer is added after
    /// an Input; each rebuild takes a `functional` name, which is why later functional models in
    /// the same process are numbered as Keras numbers them.
    private func rebuildIfPossible() throws {
        guard let inputLayer, !stack.isEmpty else { return }
        _ = Layer.uniqueName(for: "Functional")
        var shape = inputLayer.shape
        for layer in stack {
            try layer.buildIfNeeded(inputShapes: [shape])
            let next = try layer.outputShapes(forInputShapes: [shape])
            guard next.count == 1 else {
                throw PeregrineError.invalidArgument(
                    operation: name, expected: "layers with one output in a Sequential",
                    actual: "\(layer.name) with \(next.count)")
            }
            shape = next[0]
        }
        if !isBuilt { try buildIfNeeded(inputShapes: [inputLayer.shape]) }
    }

    /// The layers, InputLayer excluded (as Keras lists them).
    override public var layers: [Layer] { stack }

    override var plannableLayers: [Layer]? { stack }

    /// The per-sample input shape, once known.
    public var inputShape: [Int]? { inputLayer?.shape ?? (isBuilt ? builtInputShapes.first : nil) }

    /// The per-sample output shape of each layer, for `summary()`; nil entries before the input
    /// shape is known.
    func layerOutputShapes() -> [[Int]?] {
        guard var shape = inputShape else { return stack.map { _ in nil } }
        return stack.map { layer in
            guard let next = try? layer.outputShapes(forInputShapes: [shape]).first else { return nil }
            shape = next
            return next
        }
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        var shape = shapes[0]
        for layer in stack { shape = try layer.outputShapes(forInputShapes: [shape])[0] }
        return [shape]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try callWithMasks(inputs, training: training).outputs
    }

    /// The outputs with Keras's masks (see Masking.swift): each layer gets the previous
    /// layer's output mask, and the last one's is the model's.
    ///
    /// ```swift
    /// let (outputs, masks) = try model.callWithMasks([tokens], training: false)
    /// ```
    override public func callWithMasks(_ inputs: [Tensor], training: Bool) throws -> (outputs: [Tensor], masks: [Tensor?]) {
        guard inputs.count == 1 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "one input tensor", actual: "\(inputs.count)")
        }
        if let inputLayer {
            let x = inputs[0]
            guard x.rank == inputLayer.shape.count + 1, Array(x.shape.dropFirst()) == inputLayer.shape else {
                throw PeregrineError.invalidArgument(
                    operation: "\(name) input", expected: "shape \(formatBatchShape(inputLayer.shape))",
                    actual: "\(x.shape)")
            }
        }
        var x = inputs[0]
        var mask: Tensor? = nil
        var index = stack.startIndex
        while index < stack.endIndex {
            let layer = stack[index]
            index += 1
            // Fused chains (GraphFusions): Conv2D → BatchNormalization [→ ReLU] folded into one
            // convolution in inference, BatchNormalization → ReLU and Conv2D(relu) → MaxPooling2D
            // as one tape node (unless a mask flows, or the numerics check wants each layer's
            // output by name).
            let following = Array(stack[index..<Swift.min(index + 2, stack.endIndex)])
            if mask == nil, let (kind, length) = GraphFusions.chain(head: layer, following: following),
               let y = try GraphFusions.run(kind, head: layer, absorbed: Array(following.prefix(length)), x, training: training) {
                x = y
                index += length
                continue
            }
            let (outputs, masks) = try layer.callPropagatingMasks([x], masks: [mask], training: training)
            guard outputs.count == 1 else {
                throw PeregrineError.invalidArgument(
                    operation: layer.name, expected: "one output in a Sequential model", actual: "\(outputs.count)")
            }
            x = outputs[0]
            mask = masks[0]
        }
        return ([x], [mask])
    }
}

/// Builds a ``Sequential``'s layer list: layers, and `Input(shape:)` first.
@resultBuilder
public enum SequentialBuilder {
    public static func buildExpression(_ layer: Layer) -> [Layer] { [layer] }
    public static func buildExpression(_ input: SymbolicTensor) -> [Layer] {
        [input.layer]
    }
    public static func buildBlock(_ parts: [Layer]...) -> [Layer] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Layer]?) -> [Layer] { part ?? [] }
    public static func buildEither(first: [Layer]) -> [Layer] { first }
    public static func buildEither(second: [Layer]) -> [Layer] { second }
    public static func buildArray(_ parts: [[Layer]]) -> [Layer] { parts.flatMap { $0 } }
}

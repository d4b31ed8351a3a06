import CKernels

/// Keras's `Embedding(input_dim, output_dim, embeddings_initializer="uniform", mask_zero=False)`:
/// integer indices (stored as floats, truncated as TF's cast) look up rows of `embeddings`
/// `[inputDim, outputDim]`, so `[batch, …]` gives `[batch, …, outputDim]`. Forward is a C row
/// gather that rejects indices outside [0, inputDim); backward a C scatter-add into the
/// embeddings' gradient. Indices get no gradient.
///
/// With `maskZero`, ``computeMask(_:)`` gives (x != 0) for the layers and losses downstream;
/// index 0 is still an ordinary row, so `inputDim` must count it.
///
/// ```swift
/// let embedding = Embedding(inputDim: 1000, outputDim: 64)
/// let vectors = try embedding(try Tensor(shape: [2, 3], scalars: [1, 5, 9, 0, 2, 7]))   // [2, 3, 64]
/// ```
public final class Embedding: Layer, @unchecked Sendable {
    /// The vocabulary size: valid indices are 0..<inputDim.
    public let inputDim: Int
    /// The length of each embedding vector.
    public let outputDim: Int
    /// Whether index 0 means padding (see ``computeMask(_:)``).
    public let maskZero: Bool
    /// How the table starts (U(−0.05, 0.05) by default).
    public let embeddingsInitializer: Initializer

    /// `[inputDim, outputDim]`, after build.
    public private(set) var embeddings: Variable?

    /// An `Embedding` layer of `inputDim` rows of `outputDim` values.
    ///
    /// ```swift
    /// let layer = Embedding(inputDim: 10_000, outputDim: 128, maskZero: true)
    /// ```
    public init(
        inputDim: Int, outputDim: Int, maskZero: Bool = false,
        embeddingsInitializer: Initializer = .uniform, name: String? = nil
    ) {
        self.inputDim = inputDim
        self.outputDim = outputDim
        self.maskZero = maskZero
        self.embeddingsInitializer = embeddingsInitializer
        super.init(name: name)
    }

    override public func build(inputShapes: [[Int]]) throws {
        guard inputDim > 0, outputDim > 0 else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "inputDim > 0 and outputDim > 0", actual: "\(inputDim), \(outputDim)")
        }
        guard inputShapes.count == 1 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "one input", actual: "\(inputShapes.count)")
        }
        embeddings = try addWeight("embeddings", shape: [inputDim, outputDim], initializer: embeddingsInitializer)
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        [shapes[0] + [outputDim]]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        guard let embeddings else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt")
        }
        let x = inputs[0], table = embeddings.value
        let count = x.scalarCount
        let y = Tensor(uninitializedShape: x.shape + [outputDim])
        let bad = ck_embedding_forward(Int64(count), Int64(outputDim), Int64(inputDim), table.pointer, x.pointer, y.pointer)
        if bad >= 0 {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "indices in [0, \(inputDim))",
                actual: "\(x.pointer[Int(bad)]) at flat position \(bad) of an input of shape \(x.shape)")
        }
        return [y.recorded(name, inputs: [x, table]) { [inputDim, outputDim] g in
            let dtable = Tensor(uninitializedShape: [inputDim, outputDim])
            ck_embedding_backward(Int64(count), Int64(outputDim), Int64(inputDim), x.pointer, g.pointer, dtable.pointer)
            return [nil, dtable]
        }]
    }

    /// The padding mask (1 where the index is not 0, else 0, the input's shape) when `maskZero`,
    /// else nil: what Keras propagates to RNNs, batch normalization and the losses.
    ///
    /// ```swift
    /// let mask = Embedding(inputDim: 5, outputDim: 2, maskZero: true)
    ///     .computeMask(Tensor([3, 0, 1]))   // [1, 0, 1]
    /// ```
    public func computeMask(_ inputs: Tensor) -> Tensor? {
        guard maskZero else { return nil }
        let mask = Tensor(uninitializedShape: inputs.shape)
        ck_embedding_mask_zero(Int64(inputs.scalarCount), inputs.pointer, mask.pointer)
        return mask
    }
}

import CKernels

/// Keras's masks between layers: `Embedding(maskZero: true)` marks padding steps, layers that
/// support masking pass the mask on, recurrent layers consume it, and a model's output mask
/// weights its loss.
///
/// As Keras 3 (`Layer.compute_mask`, `supports_masking`): Dense, Dropout, Activation and
/// BatchNormalization pass their input's mask through (BatchNormalization's training statistics
/// use it: Keras's masked moments); Add ORs its inputs' masks (none when any input has none); Concatenate ORs the
/// masks broadcast over the joined axis; SimpleRNN, LSTM and GRU use the mask and pass it on
/// only with `returnSequences` (their states get none); every other layer drops it. Masks are
/// float tensors of 0 and 1.

/// A layer with its own rule for its outputs' masks (Keras's `compute_mask`).
///
/// ```swift
/// let masks = try embedding.computeMask([x], previousMasks: [nil])   // [x != 0]
/// ```
public protocol MaskComputing: Layer {
    /// The mask of each output, from the inputs and their masks.
    func computeMask(_ inputs: [Tensor], previousMasks: [Tensor?]) throws -> [Tensor?]
}

/// A layer that passes its first input's mask to its output unchanged (Keras's
/// `supports_masking = True` with the default `compute_mask`).
public protocol MaskPassingThrough: Layer {}

/// A layer whose computation uses the mask of its first input (the recurrent layers, and
/// BatchNormalization's masked moments).
protocol MaskConsuming: Layer {
    func call(_ inputs: [Tensor], mask: Tensor?, training: Bool) throws -> [Tensor]
    /// The first output's mask, given the input's.
    func consumedOutputMask(_ mask: Tensor) -> Tensor?
}

extension RecurrentLayer { func consumedOutputMask(_ mask: Tensor) -> Tensor? { returnSequences ? mask : nil } }
extension BatchNormalization { func consumedOutputMask(_ mask: Tensor) -> Tensor? { mask } }

extension Dense: MaskPassingThrough {}
extension Dropout: MaskPassingThrough {}
extension Activation: MaskPassingThrough {}
extension BatchNormalization: MaskConsuming {}
extension RecurrentLayer: MaskConsuming {}

extension Embedding: MaskComputing {
    /// `[inputs != 0]` with `maskZero`, else none.
    public func computeMask(_ inputs: [Tensor], previousMasks: [Tensor?]) throws -> [Tensor?] {
        [computeMask(inputs[0])]
    }
}

extension Add: MaskComputing {
    /// The OR of the inputs' masks; none when any input has none.
    public func computeMask(_ inputs: [Tensor], previousMasks: [Tensor?]) throws -> [Tensor?] {
        let masks = previousMasks.compactMap { $0 }
        guard masks.count == previousMasks.count, var result = masks.first else { return [nil] }
        for mask in masks.dropFirst() { result = try maximum(result, mask) }
        return [result]
    }
}

extension Concatenate: MaskComputing {
    /// Keras's rule: each input's mask (ones when it has none) broadcast over the input's shape,
    /// joined along the axis, then OR over the last axis.
    public func computeMask(_ inputs: [Tensor], previousMasks: [Tensor?]) throws -> [Tensor?] {
        guard previousMasks.contains(where: { $0 != nil }) else { return [nil] }
        let full = try zip(inputs, previousMasks).map { input, mask -> Tensor in
            guard let mask else { return try Tensor.ones(input.shape) }
            return mask.rank < input.rank ? try mask.expandingShape(at: mask.rank).broadcasted(to: input.shape) : mask
        }
        return [try Tensor.concatenate(full, axis: axis).max(axes: [-1])]
    }
}

extension Layer {
    /// Calls the layer with its inputs' masks and returns its outputs with theirs: a
    /// recurrent layer gets its first input's mask; the output masks follow the rules above.
    ///
    /// ```swift
    /// let (outputs, masks) = try layer.callPropagatingMasks([x], masks: [mask], training: false)
    /// ```
    func callPropagatingMasks(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> (outputs: [Tensor], masks: [Tensor?]) {
        let firstMask = masks.first ?? nil
        let outputs: [Tensor]
        if let consumer = self as? MaskConsuming, let firstMask {
            try buildIfNeeded(inputShapes: inputs.map { Array($0.shape.dropFirst()) })
            outputs = try consumer.call(inputs, mask: firstMask, training: training)
        } else {
            outputs = try self(inputs, training: training)
        }
        var outputMasks: [Tensor?]
        switch self {
        case let computing as MaskComputing: outputMasks = try computing.computeMask(inputs, previousMasks: masks)
        case is MaskPassingThrough: outputMasks = [firstMask]
        case let consumer as MaskConsuming: outputMasks = [firstMask.flatMap { consumer.consumedOutputMask($0) }]
        default: outputMasks = []
        }
        outputMasks += Array(repeating: nil, count: max(0, outputs.count - outputMasks.count))
        return (outputs, Array(outputMasks.prefix(outputs.count)))
    }
}

extension Metric {
    /// Adds a batch whose prediction carries a Keras mask: only the kept entries are scored
    /// (Keras's metrics weight the per-entry values by the mask). The mask covers the
    /// prediction's leading axes (e.g. `[batch, time]` for `[batch, time, classes]`).
    ///
    /// ```swift
    /// try accuracy.update(labels, logits, mask: mask)
    /// ```
    public func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor?) throws {
        guard let mask else { return try update(yTrue, yPred) }
        let rows = mask.scalarCount
        guard rows > 0, yPred.scalarCount % rows == 0, yTrue.scalarCount % rows == 0,
              Array(yPred.shape.prefix(mask.rank)) == mask.shape
        else {
            throw PeregrineError.shapeMismatch(operation: "\(name) mask", expected: Array(yPred.shape.prefix(mask.rank)), actual: mask.shape)
        }
        var kept = try IntTensor(shape: [rows], scalars: Array(repeating: 0, count: rows))
        let count = kept.withUnsafeMutableBufferPointer { Int(ck_mask_kept_indices(Int64(rows), mask.pointer, $0.baseAddress!)) }
        guard count > 0 else { return }
        let indices = try kept[0..<count]
        func compact(_ t: Tensor) throws -> Tensor {
            let rest = Array(t.shape.dropFirst(mask.rank))
            return try t.reshaped(to: [rows] + rest).gatherRows(indices)
        }
        try update(try compact(yTrue), try compact(yPred))
    }
}

/// The floating-point work a model's layers must do per sample, counted from their weights and
/// built shapes: the figure that turns samples/s into GFLOP/s and a fraction of the FMA peak.
///
/// Only the products are counted (2 FLOPs per multiply-add), as the anchors' table does:
/// - `Dense`: every input row times the kernel, `rows · in · units`;
/// - `Conv2D`: each output pixel, `outH · outW · kh · kw · (in / groups) · filters`;
/// - `LSTM` / `GRU` / `SimpleRNN`: per time step the input and the recurrent product,
///   `steps · (in + units) · gates · units` (4 gates, 3, 1).
///
/// Element-wise work (activations, pooling, batch norm, the loss, the optimizer) is left out: it
/// is memory-bound and small beside the products. Training is forward + backward: the weight
/// gradients (as many FLOPs as the forward), the gradient carried back through a recurrent layer's
/// state (`steps · units · gates · units`), and the gradient w.r.t. each layer's input — except
/// for the first layer with products, whose input is the data and needs no gradient. A Dense or
/// Conv2D input gradient costs its forward; a recurrent layer's, `steps · in · gates · units`.
///
/// ```swift
/// let cnn = try ModelArithmetic(try CompassWorkload.cnn.makeModel())
/// cnn.inferenceFLOPs   // 5.26e6
/// cnn.trainingFLOPs    // 15.4e6
/// ```
public struct ModelArithmetic: Sendable {
    /// Per layer with products, per sample: its name, forward FLOPs, the backward FLOPs always
    /// needed (weight gradients, recurrent state gradients) and those of the gradient w.r.t. its
    /// input (skipped for the first layer).
    public let layers: [(name: String, forwardFLOPs: Double, backwardFLOPs: Double, inputGradientFLOPs: Double)]

    /// Forward FLOPs per sample (inference).
    public var inferenceFLOPs: Double { layers.reduce(0) { $0 + $1.forwardFLOPs } }

    /// Forward + backward FLOPs per sample (one training step, divided by the batch).
    public var trainingFLOPs: Double {
        layers.reduce(0) { $0 + $1.forwardFLOPs + $1.backwardFLOPs + $1.inputGradientFLOPs }
            - (layers.first?.inputGradientFLOPs ?? 0)
    }

    /// Counts a built model's layers (a `Sequential` with an `Input` is built on creation);
    /// a shared layer counts once per model, as it appears in `model.layers`.
    ///
    /// ```swift
    /// let mlp = try ModelArithmetic(try CompassWorkload.mlp.makeModel())   // 1.07e6 forward
    /// ```
    public init(_ model: Model) throws {
        var counted: [(String, Double, Double, Double)] = []
        for layer in model.layers {
            if let flops = try Self.flops(of: layer), flops.forward > 0 {
                counted.append((layer.name, flops.forward, flops.backward, flops.inputGradient))
            }
        }
        layers = counted
    }

    /// Forward FLOPs per sample of one built layer, nil for a layer without products (or not built).
    ///
    /// ```swift
    /// let dense = Dense(units: 10)
    /// _ = try dense(try Tensor.ones([1, 128]))
    /// try ModelArithmetic.forwardFLOPs(of: dense)   // 2560
    /// ```
    public static func forwardFLOPs(of layer: Layer) throws -> Double? {
        try flops(of: layer)?.forward
    }

    /// Forward, backward (without the input gradient) and input-gradient FLOPs per sample of one
    /// built layer.
    static func flops(of layer: Layer) throws -> (forward: Double, backward: Double, inputGradient: Double)? {
        guard layer.isBuilt, let input = layer.builtInputShapes.first, let features = input.last else { return nil }
        let rows = Double(input.dropLast().reduce(1, *))
        func recurrent(units: Int, gates: Int) -> (Double, Double, Double) {
            let forward = 2 * rows * Double(features + units) * Double(gates * units)
            return (forward, forward + 2 * rows * Double(units * gates * units), 2 * rows * Double(features * gates * units))
        }
        switch layer {
        case let dense as Dense:
            let flops = 2 * rows * Double(features) * Double(dense.units)
            return (flops, flops, flops)
        case let conv as Conv2D:
            guard let output = try conv.outputShapes(forInputShapes: [input]).first, output.count == 3 else { return nil }
            let perPixel = Double(conv.kernelSize.0 * conv.kernelSize.1 * (features / conv.groups) * conv.filters)
            let flops = 2 * Double(output[0] * output[1]) * perPixel
            return (flops, flops, flops)
        case let lstm as LSTM: return recurrent(units: lstm.units, gates: 4)
        case let gru as GRU: return recurrent(units: gru.units, gates: 3)
        case let rnn as SimpleRNN: return recurrent(units: rnn.units, gates: 1)
        default: return nil
        }
    }
}

import CKernels

/// A layer that only renames the axes in a ``TrainingPlan`` — ``Flatten``, a ``Dropout`` of
/// rate 0, a linear ``Activation``: the output is the input's buffer under the output's shape,
/// and dL/dx is dL/dy's buffer under the input's shape. No copy either way.
///
/// ```swift
/// let stage = ReshapeStage(flatten, outputShape: [128, 784])
/// ```
final class ReshapeStage: TrainingStage {
    let layers: [Layer]
    private(set) var output: Tensor
    private let outputShape: [Int]
    /// What ``output`` is between steps, so that the stage does not keep the last input alive.
    private let idle: Tensor

    init(_ layer: Layer, outputShape: [Int]) {
        layers = [layer]
        self.outputShape = outputShape
        idle = Tensor(uninitializedShape: outputShape)
        output = idle
    }

    func forward(_ x: Tensor) throws {
        output = Tensor(shape: outputShape, storage: x.storage)
    }

    func endStep() { output = idle }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {}

    func inputGradientView(inputShape: [Int], outputGradient: Tensor) -> Tensor? {
        Tensor(shape: inputShape, storage: outputGradient.storage)
    }
}

/// An ``Activation`` layer of ReLU, sigmoid or tanh in a ``TrainingPlan``: `ck_unary` forward,
/// `ck_unary_backward` (from x and y) backward, as the taped function does.
///
/// ```swift
/// let stage = ActivationStage(Activation(.tanh), inputShape: [128, 64])
/// ```
final class ActivationStage: TrainingStage {
    let layers: [Layer]
    let output: Tensor
    private let op: ck_unary_op

    init?(_ layer: Activation, inputShape: [Int]) {
        switch layer.activation {
        case .relu: op = CK_UNARY_RELU
        case .sigmoid: op = CK_UNARY_SIGMOID
        case .tanh: op = CK_UNARY_TANH
        default: return nil
        }
        layers = [layer]
        output = Tensor(uninitializedShape: inputShape)
    }

    func forward(_ x: Tensor) throws {
        ck_unary(op, Int64(output.scalarCount), x.pointer, output.pointer)
    }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {
        guard let inputGradient else { return }
        ck_unary_backward(op, Int64(output.scalarCount), x.pointer, output.pointer, outputGradient.pointer, inputGradient.pointer)
    }
}

/// A ``Dropout`` layer (rate > 0, mask of the input's shape) in a ``TrainingPlan``: each step
/// draws its mask (0 or 1/(1 − rate)) from the layer's stream, as the taped call does, and
/// backward multiplies dy by it.
///
/// ```swift
/// let stage = DropoutStage(Dropout(rate: 0.5), inputShape: [128, 128])
/// ```
final class DropoutStage: TrainingStage {
    let layers: [Layer]
    let output: Tensor
    private let dropout: Dropout
    private let mask: Tensor

    init?(_ dropout: Dropout, inputShape: [Int]) {
        guard dropout.rate > 0, dropout.noiseShape == nil else { return nil }
        self.dropout = dropout
        layers = [dropout]
        output = Tensor(uninitializedShape: inputShape)
        mask = Tensor(uninitializedShape: inputShape)
    }

    func forward(_ x: Tensor) throws {
        let n = output.scalarCount
        let stream = dropout.nextStream(n)
        ck_dropout_forward(Int64(n), stream.seed, stream.offset, dropout.rate, x.pointer, output.pointer, mask.pointer)
    }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {
        guard let inputGradient else { return }
        multiply(count: output.scalarCount, outputGradient.pointer, mask.pointer, into: inputGradient.pointer)
    }
}

/// y = a ⊙ b over `count` elements, through the broadcasting kernel the `*` operator uses.
func multiply(count: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, bStride: Int64 = 1,
              into y: UnsafeMutablePointer<Float>) {
    var shape = Int64(count), aStride: Int64 = 1, bStride = bStride
    ck_binary(CK_BINARY_MUL, 1, &shape, a, &aStride, b, &bStride, y)
}

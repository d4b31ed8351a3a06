import CKernels

/// A ``Dense`` layer in a ``TrainingPlan``: y = act(x·W + b) with the activation in the GEMM's
/// store, backward through ``Dense/affineBackward(rows:features:units:x:w:y:upstream:activation:activationGradient:dx:dw:db:)``.
/// With a softmax the output is softmax(z) of z = x·W + b kept apart: the model's last layer,
/// whose cross-entropy is computed from z (``softmaxLogits``), so backward starts from dL/dz.
///
/// Buffers, for a batch of `rows` rows: y [rows, units], dW [features, units], db [units], and
/// (shared) dz [rows, units] with an activation.
///
/// ```swift
/// let stage = DenseStage(dense, inputShape: [128, 784])   // nil: not plannable
/// ```
final class DenseStage: TrainingStage {
    let layers: [Layer]
    let output: Tensor
    let gradients: [(variable: Variable, gradient: Tensor)]
    private let dense: Dense
    private let kernel: Variable, bias: Variable?
    private let activation: ck_activation
    /// z, when the output is softmax(z).
    let softmaxLogits: Tensor?
    /// act′(y) ⊙ dy, with an activation (a buffer the plan's stages share).
    private var activationGradient: Tensor?
    private let rows: Int, features: Int, units: Int

    /// nil unless the layer is built for `inputShape`'s last axis and its activation fuses into
    /// the GEMM (linear, relu, sigmoid, tanh) or is a softmax over [rows, units].
    init?(_ dense: Dense, inputShape: [Int]) {
        let softmax = dense.activation == .softmax && inputShape.count == 2
        guard let kernel = dense.kernel, let activation = softmax ? CK_ACT_IDENTITY : dense.activation.fusedKernel,
            inputShape.count >= 2, inputShape.last == kernel.shape[0]
        else { return nil }
        self.dense = dense
        self.kernel = kernel
        bias = dense.bias
        self.activation = activation
        features = kernel.shape[0]
        units = kernel.shape[1]
        rows = inputShape.dropLast().reduce(1, *)
        layers = [dense]
        output = Tensor(uninitializedShape: Array(inputShape.dropLast()) + [units])
        softmaxLogits = softmax ? Tensor(uninitializedShape: output.shape) : nil
        gradients = [kernel, bias].compactMap { $0 }.map { ($0, Tensor(uninitializedShape: $0.shape)) }
    }

    func temporaryShapes(computesInputGradient: Bool) -> [[Int]] {
        activation == CK_ACT_IDENTITY ? [] : [output.shape]
    }

    func bindTemporaries(_ buffers: [Tensor]) { activationGradient = buffers.first }

    func forward(_ x: Tensor) throws {
        let w = kernel.untrackedValue, b = bias?.untrackedValue
        GEMM.sgemm(
            transA: false, transB: false, m: rows, n: units, k: features, alpha: 1,
            a: x.pointer, lda: Swift.max(features, 1), b: w.pointer, ldb: units, beta: 0,
            c: (softmaxLogits ?? output).pointer, ldc: units, bias: b.map { UnsafePointer($0.pointer) },
            activation: activation)
        if let softmaxLogits { ck_softmax(Int64(rows), Int64(units), softmaxLogits.pointer, output.pointer) }
    }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {
        let w = kernel.untrackedValue
        Dense.affineBackward(
            rows: rows, features: features, units: units, x: x.pointer, w: w.pointer, y: output.pointer,
            upstream: outputGradient.pointer, activation: activation,
            activationGradient: activationGradient?.pointer, dx: inputGradient?.pointer,
            dw: gradients[0].gradient.pointer, db: bias == nil ? nil : gradients[1].gradient.pointer)
    }
}

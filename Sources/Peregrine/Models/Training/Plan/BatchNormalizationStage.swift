import CKernels

/// A ``BatchNormalization`` layer in a ``TrainingPlan``, with the ReLU ``Activation`` that
/// follows it fused in when there is one (as `Sequential` runs that pair on a tape).
///
/// Forward normalises with the batch's statistics (`ck_batchnorm_forward_training`, the ReLU in
/// the same pass) and moves the moving mean and variance; backward is `ck_batchnorm_backward`
/// with the ReLU's mask taken from the output. Buffers: y, the batch mean and variance [c].
///
/// ```swift
/// let stage = BatchNormalizationStage(norm, relu: reluLayer, inputShape: [128, 28, 28, 32])
/// ```
final class BatchNormalizationStage: TrainingStage {
    let layers: [Layer]
    let output: Tensor
    let gradients: [(variable: Variable, gradient: Tensor)]
    private let normalization: BatchNormalization
    private let gamma: Variable?, beta: Variable?, movingMean: Variable, movingVariance: Variable
    private let mean: Tensor, variance: Tensor
    private let relu: Bool
    private let rows: Int, features: Int

    /// nil unless the layer is built for `inputShape`'s last axis and trains (a frozen layer
    /// normalises with its moving statistics: the tape's job).
    init?(_ normalization: BatchNormalization, relu: Activation?, inputShape: [Int]) {
        guard let movingMean = normalization.movingMean, let movingVariance = normalization.movingVariance,
            normalization.trainable, inputShape.count >= 2, inputShape.last == movingMean.shape[0]
        else { return nil }
        self.normalization = normalization
        self.movingMean = movingMean
        self.movingVariance = movingVariance
        gamma = normalization.gamma
        beta = normalization.beta
        self.relu = relu != nil
        features = movingMean.shape[0]
        rows = inputShape.dropLast().reduce(1, *)
        layers = [normalization] + (relu.map { [$0] } ?? [])
        output = Tensor(uninitializedShape: inputShape)
        mean = Tensor(uninitializedShape: [features])
        variance = Tensor(uninitializedShape: [features])
        gradients = [gamma, beta].compactMap { $0 }.map { ($0, Tensor(uninitializedShape: $0.shape)) }
    }

    func forward(_ x: Tensor) throws {
        let g = gamma?.untrackedValue, b = beta?.untrackedValue
        ck_batchnorm_forward_training(
            Int64(rows), Int64(features), x.pointer, g.map { UnsafePointer($0.pointer) },
            b.map { UnsafePointer($0.pointer) }, normalization.epsilon, relu ? 1 : 0, output.pointer,
            mean.pointer, variance.pointer)
        normalization.updateMovingStatistics(mean: mean.pointer, variance: variance.pointer)
    }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {
        let g = gamma?.untrackedValue
        ck_batchnorm_backward(
            Int64(rows), Int64(features), x.pointer, outputGradient.pointer, relu ? UnsafePointer(output.pointer) : nil,
            mean.pointer, variance.pointer, g.map { UnsafePointer($0.pointer) }, normalization.epsilon, 1,
            inputGradient?.pointer, gamma == nil ? nil : gradients[0].gradient.pointer,
            beta == nil ? nil : gradients[gamma == nil ? 0 : 1].gradient.pointer)
    }
}

import CKernels

/// A ``MaxPooling2D`` layer in a ``TrainingPlan`` (one that no ReLU convolution absorbed): the
/// forward pass records each output's winner, the backward pass routes dy to the winners.
///
/// ```swift
/// let stage = MaxPoolingStage(pool, inputShape: [128, 26, 26, 32])   // output [128, 13, 13, 32]
/// ```
final class MaxPoolingStage: TrainingStage {
    let layers: [Layer]
    let output: Tensor
    private let shape: ck_pool2d_shape
    private let winners: ArgmaxBuffer

    init?(_ pool: MaxPooling2D, inputShape: [Int]) {
        guard inputShape.count == 4,
            let shape = try? pool.geometry.shape(layer: pool.name, inputShape: Array(inputShape.dropFirst()), batch: inputShape[0])
        else { return nil }
        self.shape = shape
        layers = [pool]
        output = Tensor(uninitializedShape: [inputShape[0], Int(shape.out_h), Int(shape.out_w), Int(shape.channels)])
        winners = ArgmaxBuffer(count: output.scalarCount)
    }

    func forward(_ x: Tensor) throws {
        var s = shape
        ck_maxpool2d_forward(&s, x.pointer, output.pointer, winners.buffer.baseAddress)
    }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {
        guard let inputGradient else { return }
        var s = shape
        ck_maxpool2d_backward(&s, outputGradient.pointer, winners.buffer.baseAddress, inputGradient.pointer)
    }
}

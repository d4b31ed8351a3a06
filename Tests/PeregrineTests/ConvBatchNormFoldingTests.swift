@testable import Peregrine
import Testing

/// In inference with nothing recorded, Sequential folds Conv2D → BatchNormalization
/// [→ Activation(.relu)] into one convolution (ConvBatchNormFolding.swift): the outputs must be
/// those of the layers called one by one, to rounding; a recording tape must see the layers.
struct ConvBatchNormFoldingTests {
    /// Two folded blocks (with and without conv bias, gamma and beta, with and without ReLU), all
    /// weights and moving statistics random, so that every term of the fold matters.
    static func model() throws -> Sequential {
        try Peregrine.withFreshSession {
            let model = try Sequential {
                Input(shape: [9, 8, 3])
                Conv2D(filters: 5, kernelSize: 3, padding: .same)
                BatchNormalization()
                Activation(.relu)
                MaxPooling2D()
                Conv2D(filters: 6, kernelSize: 2, useBias: false)
                BatchNormalization(center: false, scale: false)
                Flatten()
                Dense(units: 4)
            }
            for (index, weight) in model.weights.enumerated() {
                // Variances must be positive; everything else any sign.
                let low: Float = weight.path.hasSuffix("moving_variance") ? 0.2 : -1.5
                try weight.assign(try Tensor.randomUniform(weight.shape, lowerBound: low, upperBound: 1.5, seed: 60 + UInt64(index)))
            }
            return model
        }
    }

    /// The layers one by one: each its own call, nothing fused.
    static func layerByLayer(_ model: Sequential, _ x: Tensor) throws -> Tensor {
        var y = x
        for layer in model.layers { y = try layer(y, training: false) }
        return y
    }

    @Test func foldedEqualsTheLayersToRounding() throws {
        let model = try Self.model()
        let x = try Tensor.randomUniform([7, 9, 8, 3], lowerBound: -2, upperBound: 2, seed: 3)
        let folded = try model(x, training: false), plain = try Self.layerByLayer(model, x)
        #expect(folded.shape == plain.shape)
        let scale = plain.scalars.map(abs).max() ?? 1
        let worst = zip(folded.scalars, plain.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5 * scale, "max |folded − plain| = \(worst), outputs up to \(scale)")
        // predict batches take the same path.
        let predicted = try model.predict(x, batchSize: 3)
        #expect(zip(predicted.scalars, folded.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
        // The first block's ReLU really clamps: its folded output has zeros and positives.
        let block = try Sequential(Array(model.layers.prefix(3)))
        let first = try block(x, training: false)
        #expect(first.scalars.contains(0) && first.scalars.contains { $0 > 0 })
    }

    /// A functional graph folds the same chains, and only those whose inner values nobody else
    /// reads: here the first block folds (with its ReLU), the second block's normalization is
    /// also a model output (the chain stops there), and a third convolution's output feeds a
    /// second consumer (no fold).
    @Test func functionalModelsFoldWhatOnlyTheChainReads() throws {
        let model = try Peregrine.withFreshSession { () -> Model in
            let input = Input(shape: [9, 8, 3])
            var x = try Conv2D(filters: 5, kernelSize: 3, padding: .same)(input)
            x = try BatchNormalization()(x)
            x = try Activation(.relu)(x)
            let normalized = try BatchNormalization(center: false)(try Conv2D(filters: 4, kernelSize: 2)(x))
            let shared = try Conv2D(filters: 4, kernelSize: 2)(x)
            let branch = try add([try BatchNormalization()(shared), shared])
            let model = try Model(inputs: [input], outputs: [normalized, try Dense(units: 3)(try Flatten()(branch))])
            for (index, weight) in model.weights.enumerated() {
                let low: Float = weight.path.hasSuffix("moving_variance") ? 0.2 : -1.5
                try weight.assign(try Tensor.randomUniform(weight.shape, lowerBound: low, upperBound: 1.5, seed: 80 + UInt64(index)))
            }
            return model
        }
        // Folds at the first two convolutions (absorbing BN + ReLU, and BN alone); the first
        // BatchNormalization also heads a BN → ReLU fusion, which training runs.
        let kinds = model.fusions.chains.values.map { "\($0.kind)/\($0.absorbed.count)" }.sorted()
        #expect(kinds == ["batchNormReLU/1", "convBatchNormFold/1", "convBatchNormFold/2"])
        let x = try Tensor.randomUniform([5, 9, 8, 3], lowerBound: -2, upperBound: 2, seed: 5)
        let folded = try model([x], training: false)
        // A recording tape turns the folds off: the layers one by one.
        let tape = GradientTape()
        let plain = try tape.recording { try model([x], training: false) }
        for (a, b) in zip(folded, plain) {
            let scale = b.scalars.map(abs).max() ?? 1
            let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(a.shape == b.shape && worst <= 1e-5 * scale, "max |folded − plain| = \(worst)")
        }
    }

    /// Under a recording tape the layers run unfused, so gamma and beta get their gradients.
    @Test func aRecordingTapeSeesTheBatchNormalization() throws {
        let model = try Self.model()
        let x = try Tensor.randomUniform([2, 9, 8, 3], lowerBound: -2, upperBound: 2, seed: 4)
        let bn = model.layers[1]
        let tape = GradientTape()
        let loss = try tape.recording { try model(x, training: false).sum() }
        let gradients = try tape.gradient(loss, bn.trainableWeights)
        #expect(gradients.count == 2 && gradients.allSatisfy { $0 != nil })
        #expect(gradients.compactMap { $0 }.allSatisfy { $0.scalars.contains { $0 != 0 } })
    }
}

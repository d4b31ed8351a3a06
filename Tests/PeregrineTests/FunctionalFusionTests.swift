@testable import Peregrine
import Testing

/// A functional model runs Conv2D(relu) → MaxPooling2D and BatchNormalization → ReLU as
/// Sequential does (GraphFusions): in training the outputs, the input gradient and every weight
/// gradient equal those of the same layers called one by one, bit for bit.
struct FunctionalFusionTests {
    /// Input → Conv2D(relu) → MaxPool → BatchNormalization → ReLU → Flatten → Dense, with random
    /// weights and moving statistics.
    static func model() throws -> Model {
        try Peregrine.withFreshSession {
            let input = Input(shape: [9, 8, 3])
            var x = try Conv2D(filters: 5, kernelSize: 3, activation: .relu)(input)
            x = try MaxPooling2D()(x)
            x = try BatchNormalization()(x)
            x = try Activation(.relu)(x)
            let model = try Model(inputs: [input], outputs: [try Dense(units: 4)(try Flatten()(x))])
            for (index, weight) in model.weights.enumerated() {
                let low: Float = weight.path.hasSuffix("moving_variance") ? 0.2 : -0.6
                try weight.assign(try Tensor.randomUniform(weight.shape, lowerBound: low, upperBound: 0.6, seed: 20 + UInt64(index)))
            }
            return model
        }
    }

    @Test func trainingFusionsEqualTheLayersOneByOne() throws {
        let model = try Self.model()
        let kinds = model.fusions.chains.values.map { "\($0.kind)" }.sorted()
        #expect(kinds == ["batchNormReLU", "convReLUMaxPool"])
        let x = try Tensor.randomUniform([3, 9, 8, 3], lowerBound: -1, upperBound: 1, seed: 11)
        let layers = model.layers.filter { !($0 is InputLayer) }
        let variables = model.trainableWeights
        let fused = try ConvMaxPoolFusionTests.run(x, variables) { try model([$0], training: true)[0] }
        // The same layers one by one, from the same weights (training moved the BN statistics:
        // restore them first).
        let fresh = try Self.model()
        for (a, b) in zip(model.weights, fresh.weights) where !b.trainable { try a.assign(b.value) }
        let plain = try ConvMaxPoolFusionTests.run(x, variables) { x in
            var y = x
            for layer in layers { y = try layer(y, training: true) }
            return y
        }
        #expect(fused.count == plain.count && fused.count == 2 + variables.count)
        for (index, (a, b)) in zip(fused, plain).enumerated() {
            let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(a.count == b.count && differing == 0, "part \(index): \(differing) of \(a.count) differ")
        }
    }
}

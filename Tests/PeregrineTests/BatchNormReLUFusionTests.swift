@testable import Peregrine
import Testing

/// Sequential runs BatchNormalization → Activation(.relu) as one fused kernel pass; it must give
/// exactly what the two layers give one after the other: outputs, moving statistics, and the
/// gradients of the input, gamma and beta.
struct BatchNormReLUFusionTests {
    /// A model and the same two layers called one by one, with identical weights.
    static func pair() throws -> (model: Sequential, bn: BatchNormalization, relu: Activation) {
        try Peregrine.withFreshSession {
            let model = try Sequential {
                Input(shape: [5, 7, 6])
                BatchNormalization()
                Activation(.relu)
            }
            let bn = BatchNormalization(), relu = Activation(.relu)
            try bn.buildIfNeeded(inputShapes: [[5, 7, 6]])
            for (index, (fused, plain)) in zip(model.layers[0].weights, bn.weights).enumerated() {
                let value = try Tensor.randomUniform(fused.shape, lowerBound: 0.5, upperBound: 1.5, seed: 40 + UInt64(index))
                try fused.assign(value)
                try plain.assign(value)
            }
            return (model, bn, relu)
        }
    }

    /// Outputs and gradients of `f` for a fixed input and a fixed upstream gradient.
    static func run(_ x: Tensor, _ variables: [Variable], _ f: (Tensor) throws -> Tensor) throws -> [[Float]] {
        let tape = GradientTape(persistent: true)
        let upstream = try Tensor.randomUniform(x.shape, lowerBound: -1, upperBound: 1, seed: 7)
        let (y, loss) = try tape.recording { () -> (Tensor, Tensor) in
            tape.watch(x)
            let y = try f(x)
            return (y, try (y * upstream).sum())
        }
        let dx = try tape.gradient(loss, [x])[0]
        let dw = try tape.gradient(loss, variables)
        return [y.scalars, dx?.scalars ?? []] + dw.map { $0?.scalars ?? [] }
    }

    @Test(arguments: [true, false])
    func fusedEqualsTheTwoLayers(training: Bool) throws {
        let (model, bn, relu) = try Self.pair()
        let x = try Tensor.randomUniform([3, 5, 7, 6], lowerBound: -2, upperBound: 2, seed: 11)
        let fused = try Self.run(x, model.layers[0].trainableWeights) { try model($0, training: training) }
        let plain = try Self.run(x, bn.trainableWeights) { try relu(try bn($0, training: training), training: training) }
        #expect(fused.count == plain.count)
        for (index, (a, b)) in zip(fused, plain).enumerated() {
            let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(a.count == b.count && differing == 0,
                    "part \(index) (0 output, 1 dx, then dgamma, dbeta): \(differing) of \(a.count) differ")
        }
        // Training also moved the statistics the same way.
        for (a, b) in zip(model.layers[0].nonTrainableWeights, bn.nonTrainableWeights) {
            #expect(a.value.scalars.map(\.bitPattern) == b.value.scalars.map(\.bitPattern), "\(a.path)")
        }
        // Some outputs are clamped, so the ReLU is really applied.
        #expect(fused[0].contains(0) && fused[0].contains { $0 > 0 })
    }
}

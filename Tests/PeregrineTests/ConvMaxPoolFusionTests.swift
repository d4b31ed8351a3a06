@testable import Peregrine
import Testing

/// Sequential runs Conv2D(activation: .relu) → MaxPooling2D as one tape node whose backward masks
/// the pooled gradient; it must give exactly what the two layers give one after the other:
/// outputs and the gradients of the input, kernel and bias, bit for bit.
struct ConvMaxPoolFusionTests {
    /// A model and the same two layers, with identical weights.
    static func pair(useBias: Bool, strides: Int, padding: Padding) throws -> (model: Sequential, conv: Conv2D, pool: MaxPooling2D) {
        try Peregrine.withFreshSession {
            let model = try Sequential {
                Input(shape: [9, 8, 3])
                Conv2D(filters: 5, kernelSize: 3, padding: padding, activation: .relu, useBias: useBias)
                MaxPooling2D(poolSize: (2, 2), strides: (strides, strides), padding: padding)
            }
            let conv = Conv2D(filters: 5, kernelSize: 3, padding: padding, activation: .relu, useBias: useBias)
            let pool = MaxPooling2D(poolSize: (2, 2), strides: (strides, strides), padding: padding)
            try conv.buildIfNeeded(inputShapes: [[9, 8, 3]])
            for (fused, plain) in zip(model.layers[0].weights, conv.weights) {
                // a bias of both signs, so that some outputs are clamped and some windows all zero
                let value = try Tensor.randomUniform(fused.shape, lowerBound: -0.6, upperBound: 0.6, seed: 3)
                try fused.assign(value)
                try plain.assign(value)
            }
            return (model, conv, pool)
        }
    }

    /// Output, dx and the weight gradients of `f` for a fixed input and upstream gradient.
    static func run(_ x: Tensor, _ variables: [Variable], _ f: (Tensor) throws -> Tensor) throws -> [[Float]] {
        let tape = GradientTape(persistent: true)
        let (y, loss) = try tape.recording { () -> (Tensor, Tensor) in
            tape.watch(x)
            let y = try f(x)
            let upstream = try Tensor.randomUniform(y.shape, lowerBound: -1, upperBound: 1, seed: 7)
            return (y, try (y * upstream).sum())
        }
        let dx = try tape.gradient(loss, [x])[0]
        let dw = try tape.gradient(loss, variables)
        return [y.scalars, dx?.scalars ?? []] + dw.map { $0?.scalars ?? [] }
    }

    @Test(arguments: [(true, 2, Padding.valid), (false, 2, .same), (true, 1, .same)])
    func fusedEqualsTheTwoLayers(useBias: Bool, strides: Int, padding: Padding) throws {
        let (model, conv, pool) = try Self.pair(useBias: useBias, strides: strides, padding: padding)
        let x = try Tensor.randomUniform([3, 9, 8, 3], lowerBound: -1, upperBound: 1, seed: 11)
        let fused = try Self.run(x, model.layers[0].trainableWeights) { try model($0, training: true) }
        let plain = try Self.run(x, conv.trainableWeights) { try pool(try conv($0)) }
        #expect(fused.count == plain.count && fused.count == (useBias ? 4 : 3))
        for (index, (a, b)) in zip(fused, plain).enumerated() {
            let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(a.count == b.count && differing == 0,
                    "part \(index) (0 output, 1 dx, then dkernel, dbias): \(differing) of \(a.count) differ")
        }
        // Some pooled outputs are 0 (all-negative windows), so the mask really matters.
        #expect(fused[0].contains(0) && fused[0].contains { $0 > 0 })
    }

    /// The model's first layers: no input gradient is asked for, and the weights still train
    /// exactly as with the layers one by one.
    @Test func firstLayersWithoutInputGradient() throws {
        let (model, conv, pool) = try Self.pair(useBias: true, strides: 2, padding: .valid)
        let x = try Tensor.randomUniform([2, 9, 8, 3], lowerBound: -1, upperBound: 1, seed: 12)
        func weightGradients(_ variables: [Variable], _ f: () throws -> Tensor) throws -> [[Float]] {
            let tape = GradientTape()
            let loss = try tape.recording { try square(f()).sum() }
            return try tape.gradient(loss, variables).map { try #require($0).scalars }
        }
        let fused = try weightGradients(model.trainableWeights) { try model(x, training: true) }
        let plain = try weightGradients(conv.trainableWeights) { try pool(try conv(x)) }
        #expect(fused.map { $0.map(\.bitPattern) } == plain.map { $0.map(\.bitPattern) })
    }
}

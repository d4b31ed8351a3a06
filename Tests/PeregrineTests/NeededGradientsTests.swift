@testable import Peregrine
import Testing

/// The tape tells each operation which inputs need a gradient, and the layers skip the rest: a
/// model's first layer reads the data, whose gradient nobody asks for.
struct NeededGradientsTests {
    /// Records a probe over `inputs` and returns what its backward pass was told.
    /// (The variable is read inside the recording, which is what makes the tape watch it.)
    private func neededFlags(_ data: Tensor, _ v: Variable, watchingData: Bool = false) throws -> [Bool] {
        var seen: [Bool] = []
        let tape = GradientTape()
        if watchingData { tape.watch(data) }
        let loss = try tape.recording {
            let inputs = [data, v.value]
            let probe = try Tensor.zeros([1]).recorded("probe", inputs: inputs, selectiveBackward: { g, needed in
                seen = inputs.indices.map { needed.contains($0) }
                return inputs.map { _ in nil }
            })
            return try probe.sum()
        }
        _ = try tape.gradient(loss, v)
        return seen
    }

    @Test func onlyTrackedInputsAreNeeded() throws {
        let data: Tensor = [1, 2]
        let v = Variable(Tensor([3, 4]))
        #expect(try neededFlags(data, v) == [false, true])
        // Watching the data makes its gradient needed.
        #expect(try neededFlags(data, v, watchingData: true) == [true, true])
    }

    @Test func intermediateResultsAreNeeded() throws {
        let v = Variable(Tensor([3, 4]))
        var seen: [Bool] = []
        let tape = GradientTape()
        let loss = try tape.recording {
            let hidden = try v.value * v.value
            let probe = try Tensor.zeros([2]).recorded("probe", inputs: [hidden, Tensor([1, 1])], selectiveBackward: { g, needed in
                seen = [needed.contains(0), needed.contains(1)]
                return [g, nil]
            })
            return try probe.sum()
        }
        let grad = try tape.gradient(loss, v)
        #expect(seen == [true, false])
        #expect(grad?.scalars == [6, 8])
    }

    /// The first layer's weight gradients are the same whether or not its input gradient is
    /// computed (the input watched forces it), and the watched input does get one.
    @Test(arguments: ["dense", "conv2d", "simple_rnn", "lstm", "gru"])
    func firstLayerSkipsOnlyTheInputGradient(kind: String) throws {
        let layer: Layer
        let x: Tensor
        switch kind {
        case "dense":
            layer = Dense(units: 5, activation: .relu)
            x = try Tensor.randomNormal([3, 7], seed: 1)
        case "conv2d":
            layer = Conv2D(filters: 4, kernelSize: 3, activation: .relu)
            x = try Tensor.randomNormal([2, 6, 5, 3], seed: 2)
        case "simple_rnn":
            layer = SimpleRNN(units: 4)
            x = try Tensor.randomNormal([2, 5, 3], seed: 3)
        case "lstm":
            layer = LSTM(units: 4, returnSequences: true)
            x = try Tensor.randomNormal([2, 5, 3], seed: 4)
        default:
            layer = GRU(units: 4)
            x = try Tensor.randomNormal([2, 5, 3], seed: 5)
        }
        _ = try layer(x)
        func weightGradients(watchingInput: Bool) throws -> ([[Float]], Tensor?) {
            let tape = GradientTape(persistent: true)
            if watchingInput { tape.watch(x) }
            let loss = try tape.recording { try square(layer(x, training: true)).sum() }
            let grads = try tape.gradient(loss, layer.trainableWeights).map { try #require($0).scalars }
            return (grads, try tape.gradient(loss, [x])[0])
        }
        let (skipped, noInputGradient) = try weightGradients(watchingInput: false)
        let (computed, inputGradient) = try weightGradients(watchingInput: true)
        #expect(skipped == computed)
        #expect(noInputGradient == nil)
        #expect(inputGradient?.shape == x.shape)
        #expect(inputGradient.map { $0.scalars.contains { $0 != 0 } } == true)
    }
}

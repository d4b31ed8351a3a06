import Foundation
@testable import Peregrine
import Testing

/// A model nobody holds any more is freed, with its layers and weights: the graph's references
/// run one way (tensors and models hold nodes, nodes hold their layers and inputs), so building,
/// training or loading models in a loop does not grow memory.
struct ModelLifetimeTests {
    /// Weak references to what a model owns, taken inside `make`'s scope.
    final class Watch {
        weak var model: Model?
        weak var layer: Layer?
        weak var weight: Variable?
        weak var input: SymbolicTensor?

        init(_ model: Model) {
            self.model = model
            layer = model.layers.last
            weight = model.weights.first
            input = model.inputs.first
        }

        var allFreed: Bool { model == nil && layer == nil && weight == nil && input == nil }
    }

    static func watch(_ make: () throws -> Model) rethrows -> Watch {
        try Peregrine.withFreshSession { Watch(try make()) }
    }

    @Test func aSequentialModelIsFreed() throws {
        let watch = try Self.watch { try ModelSummaryTests.sequentialExample() }
        #expect(watch.allFreed, "model \(watch.model == nil), layer \(watch.layer == nil), weight \(watch.weight == nil)")
    }

    @Test func aFunctionalModelWithSharedLayersIsFreed() throws {
        let watch = try Self.watch { try ModelSummaryTests.functionalExample() }
        #expect(watch.allFreed, "model \(watch.model == nil), layer \(watch.layer == nil), weight \(watch.weight == nil)")
    }

    @Test func aTrainedModelIsFreed() throws {
        let watch = try Self.watch {
            let model = try ModelSummaryTests.sequentialExample()
            try model.compile(optimizer: Adam(), loss: MeanSquaredError())
            let x = try Tensor.randomUniform([16, 7], seed: 1), y = try Tensor.randomUniform([16, 4], seed: 2)
            try model.fit(x, y, batchSize: 8, epochs: 2, verbose: .silent)
            _ = try model.evaluate(x, y, verbose: .silent)
            _ = try model.predict(x)
            return model
        }
        #expect(watch.allFreed, "model \(watch.model == nil), layer \(watch.layer == nil), weight \(watch.weight == nil)")
    }

    @Test func aLoadedModelIsFreed() throws {
        let url = try DataTests.temporaryDirectory().appendingPathComponent("model.safetensors")
        try Peregrine.withFreshSession { try ModelSummaryTests.functionalExample().save(to: url) }
        let watch = try Self.watch { try Model.load(from: url) }
        #expect(watch.allFreed, "model \(watch.model == nil), layer \(watch.layer == nil), weight \(watch.weight == nil)")
    }

    @Test func symbolicTensorsKeepTheirGraphAlive() throws {
        // The other direction still holds: a tensor the user keeps keeps its layers.
        weak var dense: Layer?
        let (input, output) = try Peregrine.withFreshSession { () -> (SymbolicTensor, SymbolicTensor) in
            let layer = Dense(units: 3)
            dense = layer
            let input = Input(shape: [5])
            return (input, try layer(input))
        }
        #expect(dense != nil)
        let model = try Model(inputs: [input], outputs: [output])
        #expect(try model.predict(try Tensor.ones([2, 5])).shape == [2, 3])
    }
}

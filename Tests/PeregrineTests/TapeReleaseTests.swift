@testable import Peregrine
import Testing

/// A non-persistent tape lets go of its graph once `gradient` has answered, so the optimizer
/// that runs next updates each weight in place instead of copying it (the graph referenced every
/// weight), while values a caller kept stay what they were.
struct TapeReleaseTests {
    private func storageIdentity(_ v: Variable) -> ObjectIdentifier {
        ObjectIdentifier(v.untrackedValue.storage)
    }

    @Test func optimizerUpdatesInPlaceRightAfterGradient() throws {
        let w = Variable(try Tensor.ones([64, 32]))
        let x = try Tensor.randomNormal([8, 64], seed: 1)
        let tape = GradientTape()
        let loss = try tape.recording { try square(matmul(x, w.value)).mean() }
        let grads = try tape.gradient(loss, [w])
        let before = storageIdentity(w)
        try SGD(learningRate: 0.1).apply(grads, to: [w])
        #expect(storageIdentity(w) == before)
        #expect(w.value.scalars[0] != 1)
        withExtendedLifetime((tape, loss)) {}
    }

    @Test func fitUpdatesWeightsInPlace() throws {
        let model = try Sequential([Dense(units: 8, activation: .relu), Dense(units: 3)])
        try model.compile(optimizer: Adam(), loss: MeanSquaredError())
        let x = try Tensor.randomNormal([32, 5], seed: 2), y = try Tensor.randomUniform([32, 3], seed: 3)
        try model.fit(x, y, batchSize: 8, epochs: 1, verbose: .silent)
        let before = model.trainableWeights.map(storageIdentity)
        try model.fit(x, y, batchSize: 8, epochs: 1, verbose: .silent)
        #expect(model.trainableWeights.map(storageIdentity) == before)
    }

    @Test func keptValuesAndPersistentTapesStayCorrect() throws {
        let w = Variable(Tensor([1, 2, 3]))
        let kept = w.value
        let tape = GradientTape(persistent: true)
        let loss = try tape.recording { try square(w.value).sum() }
        let first = try tape.gradient(loss, w)
        try SGD(learningRate: 0.5).apply([first], to: [w])
        // The persistent tape still holds its graph: a second call gives the same gradient.
        #expect(try tape.gradient(loss, w)?.scalars == [2, 4, 6])
        #expect(kept.scalars == [1, 2, 3])
        #expect(w.value.scalars == [0, 0, 0])
    }
}

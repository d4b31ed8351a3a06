@testable import Peregrine
import Testing

/// Dense kernels packed once per `predict` / `evaluate` call (PackedWeights): the same outputs
/// as the plain GEMM, and no packed copy outlives the call that made it.
struct PackedWeightsTests {
    /// 784 → 512 → 37 → 10 (rows 2 KiB apart, odd widths), as in an inference batch.
    func model() throws -> Sequential {
        let model = try Sequential([
            Dense(units: 512, activation: .relu), Dense(units: 37, activation: .tanh), Dense(units: 10),
        ])
        try model.compile(optimizer: Adam(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        _ = try model(try Tensor.zeros([1, 784]), training: false)
        return model
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func aScopePacksEveryDenseOnceAndAgreesWithThePlainGEMM() throws {
        let model = try model()
        let x = try Tensor.randomNormal([45, 784], seed: 1)
        let plain = try model(x, training: false)
        let (packed, copies) = try PackedWeights.withScope(batches: 2) {
            let first = try model(x, training: false)
            let second = try model(x, training: false)  // reuses the copies
            #expect(second.scalars == first.scalars)
            return (first, PackedWeights.current?.packedCount ?? 0)
        }
        #expect(copies == (GEMM.backend == .native ? 3 : 0))
        #expect(Self.maxDifference(packed, plain) <= 1e-5)
        // One batch, or at most 4 rows, stays on the plain GEMM.
        #expect(try PackedWeights.withScope(batches: 1) { PackedWeights.current == nil })
        let few = try x.rowsView(0..<4)
        let fewCopies = try PackedWeights.withScope(batches: 2) {
            _ = try model(few, training: false)
            return PackedWeights.current?.packedCount ?? 0
        }
        #expect(fewCopies == 0)
    }

    @Test func predictAfterTrainingSeesTheNewWeights() throws {
        let model = try model()
        let x = try Tensor.randomNormal([96, 784], seed: 2)
        let y = try Tensor(shape: [96], scalars: (0..<96).map { Float($0 % 10) })
        let before = try model.predict(x, batchSize: 32)
        #expect(Self.maxDifference(before, try model(x, training: false)) <= 1e-5)
        // fit updates the kernels in place, at the same addresses the last scope packed.
        try model.fit(x, y, batchSize: 32, epochs: 1, verbose: .silent)
        let after = try model.predict(x, batchSize: 32)
        #expect(Self.maxDifference(after, try model(x, training: false)) <= 1e-5)
        #expect(Self.maxDifference(after, before) > 1e-3)
        let logs = try model.evaluate(x, y, batchSize: 32, verbose: .silent)
        let direct = try model.evaluate(x, y, batchSize: 96, verbose: .silent)  // one batch: plain
        #expect(abs((logs["loss"] ?? .nan) - (direct["loss"] ?? .nan)) <= 1e-4)
    }
}

@testable import Peregrine
import Testing

/// `fit`'s batches: the rows of a shuffled epoch gathered into reused buffers — never into one
/// that somebody still holds.
struct BatchAssemblerTests {
    @Test func shuffledBatchesAreTheGatheredRowsAndBuffersAreReused() throws {
        let x = try Tensor.randomUniform([10, 3, 2], lowerBound: -1, upperBound: 1, seed: 4)
        let y = Tensor((0..<10).map(Float.init))
        let order = RandomGenerator.permutation(10)
        var batches = BatchAssembler(x: [x], y: [y])
        var buffers: [UnsafeMutablePointer<Float>: Int] = [:]
        for epoch in 0..<2 {
            for range in [0..<4, 4..<8, 8..<10] {
                try batches.assemble(range, order: order)
                #expect(batches.x[0].scalars == (try x.gatherRows(try order[range])).scalars)
                #expect(batches.y[0].scalars == (try y.gatherRows(try order[range])).scalars)
                #expect(batches.x[0].shape == [range.count, 3, 2])
                if epoch == 1 { buffers[batches.x[0].pointer, default: 0] += 1 }
            }
        }
        // The second epoch ran on the two buffers of the first: one for 4 rows, one for 2.
        #expect(buffers.count == 2 && buffers.values.sorted() == [1, 2])
    }

    @Test func aBatchSomebodyHoldsIsNeverOverwritten() throws {
        let x = try Tensor.randomUniform([8, 5], lowerBound: -1, upperBound: 1, seed: 6)
        let order = RandomGenerator.permutation(8)
        var batches = BatchAssembler(x: [x], y: [x])
        try batches.assemble(0..<4, order: order)
        let kept = batches.x[0], keptScalars = kept.scalars
        try batches.assemble(4..<8, order: order)
        #expect(kept.scalars == keptScalars)
        #expect(batches.x[0].pointer != kept.pointer)
        #expect(batches.x[0].scalars == (try x.gatherRows(try order[4..<8])).scalars)
    }

    @Test func unshuffledBatchesAreViews() throws {
        let x = try Tensor.randomUniform([6, 2], lowerBound: -1, upperBound: 1, seed: 8)
        var batches = BatchAssembler(x: [x], y: [x])
        try batches.assemble(2..<5, order: nil)
        #expect(batches.x[0].pointer == x.pointer + 4)
        #expect(batches.x[0].scalars == Array(x.scalars[4..<10]))
    }
}

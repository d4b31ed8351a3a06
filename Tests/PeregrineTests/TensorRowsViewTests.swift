@testable import Peregrine
import Testing

/// `rowsView` cuts rows without copying, and value semantics hold both ways: a write through the
/// view copies it first, and the base outlives nothing it should.
struct TensorRowsViewTests {
    @Test func viewEqualsTheSliceAndSharesTheBuffer() throws {
        let base = try Tensor.randomUniform([7, 3, 2], seed: 1)
        let view = try base.rowsView(2..<5)
        #expect(view.shape == [3, 3, 2])
        #expect(view.scalars == (try base[2..<5]).scalars)
        #expect(view.pointer == base.pointer + 2 * 6)
        #expect(try base.rowsView(7..<7).shape == [0, 3, 2])
    }

    @Test func writesThroughEitherSideDoNotLeak() throws {
        var base = try Tensor.randomUniform([4, 5], seed: 2)
        let original = base.scalars
        var view = try base.rowsView(1..<3)
        view.withUnsafeMutableBufferPointer { $0[0] = 100 }
        #expect(base.scalars == original)
        #expect(view.scalars[0] == 100)
        let viewBefore = (try base.rowsView(1..<3)).scalars
        let kept = try base.rowsView(1..<3)
        base.withUnsafeMutableBufferPointer { $0[5] = -7 }   // row 1, shared with `kept`
        #expect(kept.scalars == viewBefore)
        #expect(base.scalars[5] == -7)
    }

    @Test func theViewKeepsItsBaseAlive() throws {
        var view: Tensor?
        do {
            let base = try Tensor.randomUniform([64, 32], seed: 3)
            view = try base.rowsView(10..<20)
            #expect(view?.scalars == (try base[10..<20]).scalars)
        }
        // The base's buffer went back to nobody: a new allocation must not reuse it.
        let other = try Tensor.full([64, 32], value: 9)
        #expect(view?.scalars.contains(9) == false)
        _ = other
    }

    @Test func outOfRangeRowsThrow() throws {
        let base = try Tensor.zeros([3, 2])
        #expect(throws: PeregrineError.self) { try base.rowsView(2..<4) }
        #expect(throws: PeregrineError.self) { try Tensor(5).rowsView(0..<1) }
    }
}

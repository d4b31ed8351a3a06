import Peregrine
import Testing

/// Arithmetic with broadcasting, element-wise math, softmax, reductions and matmul against
/// hand-computed values.
struct TensorOpsTests {
    let x: Tensor = [[1, 2, 3], [4, 5, 6]]

    @Test func arithmeticBroadcastsLikeNumPy() throws {
        let bias: Tensor = [10, 20, 30]
        #expect(try (x + bias).scalars == [11, 22, 33, 14, 25, 36])
        let column: Tensor = [[1], [2]]
        #expect(try (x * column).scalars == [1, 2, 3, 8, 10, 12])
        #expect(try (x - x).scalars == [0, 0, 0, 0, 0, 0])
        #expect(try (x / Tensor([[2]])).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        let outer = try Tensor([1, 2, 3]).reshaped(to: [3, 1]) + Tensor([10, 20])
        #expect(outer.shape == [3, 2] && outer.scalars == [11, 21, 12, 22, 13, 23])
        #expect(try (Tensor(2) + x).shape == [2, 3])  // rank-0 broadcasts against anything
    }

    @Test func scalarOperandsOnEitherSide() {
        #expect((x + 1).scalars == [2, 3, 4, 5, 6, 7])
        #expect((x - 1).scalars == [0, 1, 2, 3, 4, 5])
        #expect((x * 2).scalars == [2, 4, 6, 8, 10, 12])
        #expect((x / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect((10 - x).scalars == [9, 8, 7, 6, 5, 4])
        #expect((12 / x).scalars == [12, 6, 4, 3, 2.4, 2])
        #expect((2 * x).scalars == (x * 2).scalars)
        #expect((1 + x).scalars == (x + 1).scalars)
        #expect((-x).scalars == [-1, -2, -3, -4, -5, -6])
    }

    @Test func incompatibleShapesThrowNamingBothShapes() {
        #expect(throws: PeregrineError.incompatibleShapes(operation: "add", lhs: [2, 3], rhs: [4])) {
            try x + Tensor([1, 2, 3, 4])
        }
        do {
            _ = try x * Tensor([[1, 2], [3, 4]])
            Issue.record("expected a throw")
        } catch {
            #expect("\(error)" == "multiply: shapes [2, 3] and [2, 2] are not broadcastable")
        }
        #expect(throws: PeregrineError.self) { try x - Tensor([1, 2]) }
        #expect(throws: PeregrineError.self) { try x / Tensor([[1], [2], [3]]) }
        #expect(throws: PeregrineError.self) { try pow(x, Tensor([1, 2])) }
    }

    @Test func elementwiseMath() throws {
        let v: Tensor = [-2, 0, 1, 4]
        #expect(relu(v).scalars == [0, 0, 1, 4])
        #expect(abs(v).scalars == [2, 0, 1, 4])
        #expect(square(v).scalars == [4, 0, 1, 16])
        #expect(sqrt(Tensor([4, 9, 0])).scalars == [2, 3, 0])
        #expect(pow(Tensor([2, 3]), 2).scalars == [4, 9])
        #expect(pow(Tensor([8]), 1.0 / 3).scalars[0].isApproximatelyEqual(to: 2, tolerance: 1e-6))
        #expect(try pow(Tensor([2, 3]), Tensor([3, 2])).scalars == [8, 9])
        #expect(exp(Tensor([0])).scalars == [1])
        #expect(exp(Tensor([1])).scalars[0].isApproximatelyEqual(to: 2.7182817, tolerance: 1e-6))
        #expect(log(Tensor([1, 0])).scalars == [0, -.infinity])
        #expect(log(Tensor([100])).scalars[0].isApproximatelyEqual(to: 4.6051702, tolerance: 1e-6))
        #expect(tanh(Tensor([0, 100, -100])).scalars == [0, 1, -1])
        #expect(tanh(Tensor([0.5])).scalars[0].isApproximatelyEqual(to: 0.46211716, tolerance: 1e-6))
        #expect(sigmoid(Tensor([0])).scalars == [0.5])
        #expect(sigmoid(Tensor([2])).scalars[0].isApproximatelyEqual(to: 0.880797, tolerance: 1e-6))
        #expect(try maximum(Tensor([1, 5]), Tensor([3, 2])).scalars == [3, 5])
        #expect(try minimum(Tensor([1, 5]), Tensor([3, 2])).scalars == [1, 2])
    }

    @Test func softmaxAlongAnyAxis() throws {
        let p = try softmax(Tensor([[1, 2, 3]]))
        let want: [Float] = [0.09003057, 0.24472848, 0.66524094]
        for (got, w) in zip(p.scalars, want) { #expect(got.isApproximatelyEqual(to: w, tolerance: 1e-6)) }
        // large logits do not overflow
        #expect(try softmax(Tensor([1000, 1000])).scalars == [0.5, 0.5])
        // axis 0 of [[1, 2], [1, 2]]: each column is uniform
        let columns = try softmax(Tensor(shape: [2, 2], scalars: [1, 2, 1, 2]), axis: 0)
        #expect(columns.scalars == [0.5, 0.5, 0.5, 0.5])
        let cube = try Tensor.randomNormal([2, 3, 4], seed: 3)
        let sums = try softmax(cube, axis: 1).sum(axis: 1)
        #expect(sums.shape == [2, 4])
        #expect(sums.scalars.allSatisfy { $0.isApproximatelyEqual(to: 1, tolerance: 1e-6) })
        let logp = try logSoftmax(cube, axis: 1)
        let direct = log(try softmax(cube, axis: 1))
        for (a, b) in zip(logp.scalars, direct.scalars) { #expect(a.isApproximatelyEqual(to: b, tolerance: 1e-5)) }
        #expect(throws: PeregrineError.axisOutOfRange(operation: "softmax", axis: 3, rank: 3)) {
            try softmax(cube, axis: 3)
        }
    }

    @Test func reductionsOverAxesWithKeepDims() throws {
        #expect(try x.sum().shape == [] && x.sum().scalar == 21)
        #expect(try x.sum(axis: 0).scalars == [5, 7, 9])
        #expect(try x.sum(axis: 1).scalars == [6, 15])
        #expect(try x.sum(axis: -1, keepDims: true).shape == [2, 1])
        #expect(try x.sum(axes: [0, 1], keepDims: true).shape == [1, 1])
        #expect(try x.mean().scalar == 3.5)
        #expect(try x.mean(axis: 0).scalars == [2.5, 3.5, 4.5])
        #expect(try x.max(axis: 1).scalars == [3, 6])
        #expect(try x.min(axis: 0).scalars == [1, 2, 3])
        #expect(try x.max().scalar == 6 && x.min().scalar == 1)
        let cube = try Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        #expect(try cube.sum(axes: [0, 2]).scalars == [60, 92, 124])  // non-adjacent axes
        #expect(try cube.sum(axes: [1, 2]).scalars == [66, 210])      // adjacent axes, one pass
        #expect(try cube.max(axes: [0, 2], keepDims: true).shape == [1, 3, 1])
        #expect(try cube.sum(axes: []).shape == [2, 3, 4])
        // centering with keepDims broadcasts back
        let centered = try x - x.mean(axis: 1, keepDims: true)
        #expect(centered.scalars == [-1, 0, 1, -1, 0, 1])
        #expect(throws: PeregrineError.self) { try x.sum(axis: 2) }
        #expect(throws: PeregrineError.self) { try x.sum(axes: [0, 0]) }
        #expect(throws: PeregrineError.self) { try Tensor.zeros([0, 3]).max(axis: 0) }
        #expect(try Tensor.zeros([0, 3]).sum(axis: 0).scalars == [0, 0, 0])
    }

    @Test func argmaxReturnsFirstMaximum() throws {
        let logits: Tensor = [[0.1, 2, 0.3], [5, 1, 5]]
        #expect(try logits.argmax() == IntTensor([1, 0]))
        #expect(try logits.argmax(axis: 0) == IntTensor([1, 0, 1]))
        #expect(throws: PeregrineError.self) { try Tensor(3).argmax() }
    }

    @Test func matmulShapes() throws {
        let a: Tensor = [[1, 2], [3, 4]]
        let b: Tensor = [[5], [6]]
        #expect(try matmul(a, b).scalars == [17, 39])
        #expect(try a.matmul(a).scalars == [7, 10, 15, 22])
        // [B, M, K]·[K, N]
        let batch = try Tensor.concatenate([a.expandingShape(at: 0), (a * 2).expandingShape(at: 0)])
        let y = try matmul(batch, b)
        #expect(y.shape == [2, 2, 1] && y.scalars == [17, 39, 34, 78])
        // [B, M, K]·[B, K, N]
        let bs = try Tensor.concatenate([b.expandingShape(at: 0), (b * -1).expandingShape(at: 0)])
        let z = try matmul(batch, bs)
        #expect(z.shape == [2, 2, 1] && z.scalars == [17, 39, -34, -78])
        // K = 0 is an empty sum
        #expect(try matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars == [0, 0, 0, 0, 0, 0])
        #expect(throws: PeregrineError.self) { try matmul(a, Tensor.zeros([3, 2])) }
        #expect(throws: PeregrineError.self) { try matmul(Tensor([1, 2]), a) }
        #expect(throws: PeregrineError.self) { try matmul(batch, Tensor.zeros([3, 2, 1])) }
    }
}

extension Float {
    func isApproximatelyEqual(to other: Float, tolerance: Float) -> Bool {
        Swift.abs(self - other) <= tolerance * Swift.max(1, Swift.abs(other))
    }
}

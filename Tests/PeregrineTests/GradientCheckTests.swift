import Peregrine
import Testing

/// Every differentiable operation's tape gradient against central differences.
///
/// The loss is L = Σ f(x)·u with a fixed random u, so every output element matters. Differences
/// are taken in float32 (the ops exist only in float32) with step h = 1e-2: the rounding error
/// of (L(x+h) − L(x−h)) / 2h is about eps·|L| / h ≈ 6e-8·10 / 1e-2 ≈ 6e-5, the truncation error
/// h²·|f'''|/6 is ≤ 2e-4 for the smooth functions on the input ranges used, so a tolerance of
/// 2e-3 absolute plus 2e-3 relative separates a correct gradient (errors ~1e-4) from any wrong
/// formula (errors ~1e-1). Inputs keep 0.1 away from kinks (relu, abs, max ties) so that the
/// difference never straddles one.
struct GradientCheckTests {
    static func random(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -2...2) throws -> Tensor {
        try Tensor.randomUniform(shape, lowerBound: range.lowerBound, upperBound: range.upperBound, seed: seed)
    }

    /// Inputs at least `margin` away from 0, for functions with a kink there.
    static func awayFromZero(_ shape: [Int], seed: UInt64, margin: Float = 0.1) throws -> Tensor {
        let x = try random(shape, seed: seed, in: 0...1.9)
        let sign = try random(shape, seed: seed + 100, in: -1...1)
        // (x + margin) with a random sign: |value| in [margin, 2].
        return try (x + margin) * sign / abs(sign)
    }

    static func check(
        _ name: String, _ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
        _ f: ([Tensor]) throws -> Tensor
    ) throws {
        let probe = try f(inputs)
        let u = try random(probe.shape, seed: 99)
        func loss(_ xs: [Tensor]) throws -> Float { try (f(xs) * u).sum().scalar! }

        let tape = GradientTape()
        inputs.forEach(tape.watch)
        let l = try tape.recording { try (f(inputs) * u).sum() }
        let analytic = try tape.gradient(l, inputs)

        let h: Float = 1e-2
        for (i, x) in inputs.enumerated() {
            guard let g = analytic[i] else {
                Issue.record("\(name): no gradient for input \(i)", sourceLocation: sourceLocation)
                continue
            }
            #expect(g.shape == x.shape, "\(name): gradient shape", sourceLocation: sourceLocation)
            let gs = g.scalars
            for j in 0..<x.scalarCount {
                var plus = inputs, minus = inputs
                plus[i].withUnsafeMutableBufferPointer { $0[j] += h }
                minus[i].withUnsafeMutableBufferPointer { $0[j] -= h }
                let numeric = (try loss(plus) - loss(minus)) / (2 * h)
                let tolerance = 2e-3 + 2e-3 * Swift.abs(numeric)
                #expect(
                    Swift.abs(gs[j] - numeric) <= tolerance,
                    "\(name): d/dx\(i)[\(j)] tape \(gs[j]) vs numeric \(numeric)",
                    sourceLocation: sourceLocation)
            }
        }
    }

    @Test func broadcastingArithmetic() throws {
        let a = try Self.random([3, 4], seed: 1)
        let positive = try Self.random([3, 4], seed: 2, in: 0.5...2)
        for (shape, seed) in [([3, 4], 3), ([4], 4), ([3, 1], 5), ([1, 4], 6), ([], 7)] as [([Int], UInt64)] {
            let b = try Self.random(shape, seed: seed)
            let bPositive = try Self.random(shape, seed: seed, in: 0.5...2)
            try Self.check("add \(shape)", [a, b]) { try $0[0] + $0[1] }
            try Self.check("sub \(shape)", [b, a]) { try $0[0] - $0[1] }
            try Self.check("mul \(shape)", [a, b]) { try $0[0] * $0[1] }
            try Self.check("div \(shape)", [a, bPositive]) { try $0[0] / $0[1] }
            try Self.check("pow \(shape)", [positive, b]) { try pow($0[0], $0[1]) }
            try Self.check("maximum \(shape)", [a, b]) { try maximum($0[0], $0[1]) }
            try Self.check("minimum \(shape)", [b, a]) { try minimum($0[0], $0[1]) }
        }
    }

    @Test func scalarArithmetic() throws {
        let x = try Self.random([2, 3], seed: 8, in: 0.5...2)
        try Self.check("x + s", [x]) { $0[0] + 1.5 }
        try Self.check("s - x", [x]) { 1.5 - $0[0] }
        try Self.check("x * s", [x]) { $0[0] * -2.5 }
        try Self.check("s / x", [x]) { 3 / $0[0] }
        try Self.check("x / s", [x]) { $0[0] / 4 }
        try Self.check("-x", [x]) { -$0[0] }
    }

    @Test func elementwiseFunctions() throws {
        let x = try Self.random([3, 5], seed: 9)
        let positive = try Self.random([3, 5], seed: 10, in: 0.3...3)
        let kinked = try Self.awayFromZero([3, 5], seed: 11)
        try Self.check("exp", [x]) { exp($0[0]) }
        try Self.check("log", [positive]) { log($0[0]) }
        try Self.check("sqrt", [positive]) { sqrt($0[0]) }
        try Self.check("abs", [kinked]) { abs($0[0]) }
        try Self.check("square", [x]) { square($0[0]) }
        try Self.check("pow 3", [x]) { pow($0[0], 3) }
        try Self.check("pow 0.5", [positive]) { pow($0[0], 0.5) }
        try Self.check("tanh", [x]) { tanh($0[0]) }
        try Self.check("sigmoid", [x]) { sigmoid($0[0]) }
        try Self.check("relu", [kinked]) { relu($0[0]) }
        try Self.check("clip", [kinked]) { try clip($0[0], min: -1.05, max: 0.95) }
    }

    @Test func softmaxes() throws {
        let x = try Self.random([3, 4], seed: 12)
        try Self.check("softmax", [x]) { try softmax($0[0]) }
        try Self.check("softmax axis 0", [x]) { try softmax($0[0], axis: 0) }
        try Self.check("logSoftmax", [x]) { try logSoftmax($0[0]) }
        try Self.check("logSoftmax axis 0", [x]) { try logSoftmax($0[0], axis: 0) }
    }

    @Test func reductions() throws {
        let x = try Self.random([2, 3, 4], seed: 13)
        for axes in [[0], [1], [2], [0, 2], [1, 2]] {
            for keep in [false, true] {
                try Self.check("sum \(axes) \(keep)", [x]) { try $0[0].sum(axes: axes, keepDims: keep) }
                try Self.check("mean \(axes) \(keep)", [x]) { try $0[0].mean(axes: axes, keepDims: keep) }
                try Self.check("max \(axes) \(keep)", [x]) { try $0[0].max(axes: axes, keepDims: keep) }
                try Self.check("min \(axes) \(keep)", [x]) { try $0[0].min(axes: axes, keepDims: keep) }
            }
        }
        try Self.check("sum all", [x]) { try $0[0].sum() }
        try Self.check("mean all", [x]) { try $0[0].mean() }
        try Self.check("max all", [x]) { try $0[0].max() }
    }

    @Test func matrixProducts() throws {
        let a = try Self.random([3, 4], seed: 14), b = try Self.random([4, 5], seed: 15)
        let batchA = try Self.random([2, 3, 4], seed: 16), batchB = try Self.random([2, 4, 5], seed: 17)
        try Self.check("matmul", [a, b]) { try matmul($0[0], $0[1]) }
        try Self.check("matmul batch·matrix", [batchA, b]) { try matmul($0[0], $0[1]) }
        try Self.check("matmul batch·batch", [batchA, batchB]) { try matmul($0[0], $0[1]) }
    }

    @Test func shapeOperations() throws {
        let x = try Self.random([2, 3, 4], seed: 18)
        let y = try Self.random([2, 2, 4], seed: 19)
        try Self.check("reshape", [x]) { try $0[0].reshaped(to: [4, -1]) }
        try Self.check("permute", [x]) { try $0[0].permuted([2, 0, 1]) }
        try Self.check("transpose", [x]) { try $0[0].transposed() }
        try Self.check("broadcast", [try Self.random([3, 1], seed: 20)]) { try $0[0].broadcasted(to: [2, 3, 4]) }
        try Self.check("expand + squeeze", [x]) { try $0[0].expandingShape(at: 1).squeezingShape(at: 1) }
        try Self.check("concatenate", [x, y]) { try Tensor.concatenate($0, axis: 1) }
        try Self.check("slice", [x]) { try $0[0][1, 0..<3, stride(from: 3, through: 0, by: -2)] }
    }

    @Test func losses() throws {
        let logits = try Self.random([4, 3], seed: 21)
        // Unnormalised (the loss renormalises) and away from 0, where log's third derivative
        // would make the central difference's truncation error exceed the tolerance.
        let probabilities = try Self.random([4, 3], seed: 22, in: 0.3...1)
        let targets = try softmax(try Self.random([4, 3], seed: 23) * 3)
        let binary = try Self.random([4, 3], seed: 24, in: 0...1)
        let labels = Tensor([2, 0, 1, 1])
        let weights = Tensor([1, 0, 0.5, 2])
        let cases: [(String, any Loss, Tensor, Tensor)] = [
            ("mse", MeanSquaredError(), binary, logits),
            ("mae", MeanAbsoluteError(), binary, try Self.awayFromZero([4, 3], seed: 25) + binary),
            ("huber", Huber(delta: 0.7), binary, logits * 2),
            ("bce logits", BinaryCrossentropy(fromLogits: true, labelSmoothing: 0.1), binary, logits),
            ("bce probs", BinaryCrossentropy(), binary, try Self.random([4, 3], seed: 26, in: 0.1...0.9)),
            ("cce logits", CategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.2), targets, logits),
            ("cce probs", CategoricalCrossentropy(), targets, probabilities),
            ("scce logits", SparseCategoricalCrossentropy(fromLogits: true), labels, logits),
            ("scce ignore", SparseCategoricalCrossentropy(fromLogits: true, ignoreClass: 1), labels, logits),
        ]
        for (name, loss, yTrue, yPred) in cases {
            try Self.check(name, [yPred]) { try loss(yTrue, $0[0]) }
            try Self.check(name + " weighted", [yPred]) { try loss(yTrue, $0[0], sampleWeight: weights) }
        }
        // Probabilities from softmax are scored through their logits: the gradient flows to them.
        try Self.check("cce on softmax output", [logits]) { try CategoricalCrossentropy()(targets, softmax($0[0])) }
        try Self.check("bce on sigmoid output", [logits]) { try BinaryCrossentropy()(binary, sigmoid($0[0])) }
    }
}

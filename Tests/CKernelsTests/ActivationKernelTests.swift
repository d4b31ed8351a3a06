import CKernels
import Foundation
import Testing

/// activation.c, dropout.c, embedding.c and random_truncated.c against their plain references,
/// on every ISA path and 1–3 threads, on odd sizes that cross the block (256) and threading
/// (4096) boundaries.
@Suite(.serialized)
struct ActivationKernelTests {
    static let functions: [(String, ck_act_fn, Float)] = [
        ("elu", CK_ACT_FN_ELU, 1), ("elu α=0.5", CK_ACT_FN_ELU, 0.5), ("selu", CK_ACT_FN_SELU, 0),
        ("leaky_relu", CK_ACT_FN_LEAKY_RELU, 0.2), ("gelu", CK_ACT_FN_GELU, 0),
        ("gelu_tanh", CK_ACT_FN_GELU_TANH, 0), ("swish", CK_ACT_FN_SWISH, 0),
        ("softplus", CK_ACT_FN_SOFTPLUS, 0), ("softsign", CK_ACT_FN_SOFTSIGN, 0),
        ("relu6", CK_ACT_FN_RELU6, 0), ("hard_sigmoid", CK_ACT_FN_HARD_SIGMOID, 0),
        ("hard_silu", CK_ACT_FN_HARD_SILU, 0), ("exponential", CK_ACT_FN_EXPONENTIAL, 0),
        ("mish", CK_ACT_FN_MISH, 0),
    ]

    /// Inputs over [−12, 12] with the kinks and special points planted at the front.
    static func inputs(_ n: Int, seed: UInt32) -> [Float] {
        var x = KernelSweep.operands(n, seed: seed, in: -12...12)
        let special: [Float] = [0, -0.0, 6, -3, 3, 1e-30, -1e-30, -90, 80, 0.5, -20]
        for (i, v) in special.enumerated() where i < n { x[i] = v }
        return x
    }

    /// float32 evaluation of these formulas rounds each step: an error of a few ulp of the
    /// result, plus cancellation (1 + erf, eˣ − 1, 1 − t²) whose absolute error is a few ulp of
    /// 1 scaled by the |x| that multiplies it. So: 8 ulp relative, 4e-7·max(1, |x|) absolute.
    static func close(_ got: Float, _ want: Float, x: Float, scale: Float = 1) -> Bool {
        if got.isNaN || want.isNaN { return got.isNaN && want.isNaN }
        if got == want { return true }
        let tolerance = 8 * want.magnitude.ulp + 4e-7 * Swift.max(1, x.magnitude) * scale
        return (got - want).magnitude <= tolerance
    }

    @Test func forwardMatchesReference() {
        for n in [0, 1, 3, 17, 33, 127, 257, 1000, 9001] {
            let x = Self.inputs(n, seed: 1)
            for (name, fn, alpha) in Self.functions {
                var want = [Float](repeating: 0, count: n)
                ck_activation_forward_reference(fn, alpha, Int64(n), x, &want)
                KernelSweep.forEachConfiguration { isa, threads in
                    var y = [Float](repeating: .nan, count: n)
                    ck_activation_forward(fn, alpha, Int64(n), x, &y)
                    let bad = (0..<n).first { !Self.close(y[$0], want[$0], x: x[$0]) }
                    #expect(bad == nil, "\(name) n=\(n) \(String(cString: ck_isa_name(isa))) ×\(threads): x=\(bad.map { x[$0] } ?? 0) got \(bad.map { y[$0] } ?? 0) want \(bad.map { want[$0] } ?? 0)")
                }
            }
        }
    }

    @Test func backwardMatchesReference() {
        for n in [1, 17, 255, 257, 5000] {
            let x = Self.inputs(n, seed: 2)
            let dy = KernelSweep.operands(n, seed: 3)
            for (name, fn, alpha) in Self.functions {
                var y = [Float](repeating: 0, count: n), want = y
                ck_activation_forward_reference(fn, alpha, Int64(n), x, &y)
                ck_activation_backward_reference(fn, alpha, Int64(n), x, dy, &want)
                KernelSweep.forEachConfiguration { isa, threads in
                    var dx = [Float](repeating: .nan, count: n)
                    ck_activation_backward(fn, alpha, Int64(n), x, y, dy, &dx)
                    // The derivatives carry x² (gelu_tanh) or x·(…) terms: scale the absolute part.
                    let bad = (0..<n).first { !Self.close(dx[$0], want[$0], x: x[$0], scale: 4 * Swift.max(1, x[$0].magnitude)) }
                    #expect(bad == nil, "\(name)' n=\(n) \(String(cString: ck_isa_name(isa))) ×\(threads): x=\(bad.map { x[$0] } ?? 0) got \(bad.map { dx[$0] } ?? 0) want \(bad.map { want[$0] } ?? 0)")
                }
            }
        }
    }

    /// Keras's sub-gradient conventions at the kinks, exactly.
    @Test func slopesAtKinks() {
        func slope(_ fn: ck_act_fn, _ alpha: Float, at x: Float) -> Float {
            var y: Float = 0, dx: Float = 0
            var xv = x, one: Float = 1
            ck_activation_forward(fn, alpha, 1, &xv, &y)
            ck_activation_backward(fn, alpha, 1, &xv, &y, &one, &dx)
            return dx
        }
        #expect(slope(CK_ACT_FN_ELU, 1, at: 0) == 1)
        #expect(slope(CK_ACT_FN_LEAKY_RELU, 0.2, at: 0) == 0.2)
        #expect(slope(CK_ACT_FN_RELU6, 0, at: 0) == 0)
        #expect(slope(CK_ACT_FN_RELU6, 0, at: 6) == 0)
        #expect(slope(CK_ACT_FN_HARD_SIGMOID, 0, at: 3) == 0)
        #expect(slope(CK_ACT_FN_SELU, 0, at: 0) == 1.0507009873554804934193349852946)
    }

    /// The vector erf against libm's erff over a sample of every float magnitude (every 4099th
    /// bit pattern, both signs) and the special values: ≤ 2 ulp on every path.
    @Test func erfAgainstLibm() {
        var x: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 0.875, -0.875, 4, 3.92, 1e-40]
        for bits in stride(from: UInt32(0), to: 0x7f80_0000, by: 4099) {
            x.append(Float(bitPattern: bits))
            x.append(-Float(bitPattern: bits))
        }
        let n = x.count
        var want = [Float](repeating: 0, count: n)
        ck_erf_reference(Int64(n), x, &want)
        KernelSweep.forEachConfiguration { isa, threads in
            var y = [Float](repeating: 0, count: n)
            ck_erf(Int64(n), x, &y)
            var worst = 0.0, at: Float = 0
            for i in 0..<n {
                let d = KernelSweep.ulps(y[i], want[i])
                if d > worst { worst = d; at = x[i] }
            }
            #expect(worst <= 2, "erf \(String(cString: ck_isa_name(isa))) ×\(threads): \(worst) ulp at \(at)")
        }
    }

    @Test func dropoutMatchesReferenceAndRate() {
        for n in KernelSweep.sizes {
            let x = KernelSweep.operands(n, seed: 4)
            for rate: Float in [0, 0.3, 0.5, 1] {
                var wantY = [Float](repeating: 0, count: n), wantMask = wantY
                ck_dropout_forward_reference(Int64(n), 42, 7, rate, x, &wantY, &wantMask)
                KernelSweep.forEachConfiguration { isa, threads in
                    var y = [Float](repeating: .nan, count: n), mask = y
                    ck_dropout_forward(Int64(n), 42, 7, rate, x, &y, &mask)
                    #expect(y == wantY && mask == wantMask, "dropout n=\(n) rate=\(rate) \(String(cString: ck_isa_name(isa))) ×\(threads)")
                }
                let scale: Float = rate < 1 ? 1 / (1 - rate) : 0
                #expect(wantMask.allSatisfy { $0 == 0 || $0 == scale })
                if n >= 100_000 {
                    // Binomial: the zero fraction's standard deviation is √(r(1−r)/n) ≤ 0.0016.
                    let zeros = Double(wantMask.filter { $0 == 0 }.count) / Double(n)
                    #expect(abs(zeros - Double(rate)) < 0.01, "rate \(rate): \(zeros) zeroed")
                }
            }
        }
    }

    @Test func embeddingGatherAndScatter() {
        for (count, dim, inputDim) in [(1, 1, 1), (3, 17, 5), (127, 33, 10), (4000, 64, 50), (33, 1000, 3)] {
            let table = KernelSweep.operands(inputDim * dim, seed: 5)
            // Repeated indices on purpose (count ≫ inputDim), fractional parts truncated.
            let indices = KernelSweep.operands(count, seed: 6, in: 0...Float(inputDim) - 0.01).map { $0.rounded(.down) + 0.25 }
            let dy = KernelSweep.operands(count * dim, seed: 7)
            var want = [Float](repeating: 0, count: count * dim)
            var wantGrad = [Float](repeating: 0, count: inputDim * dim)
            ck_embedding_forward_reference(Int64(count), Int64(dim), table, indices, &want)
            ck_embedding_backward_reference(Int64(count), Int64(dim), Int64(inputDim), indices, dy, &wantGrad)
            KernelSweep.forEachConfiguration { isa, threads in
                var y = [Float](repeating: .nan, count: count * dim)
                var grad = [Float](repeating: .nan, count: inputDim * dim)
                #expect(ck_embedding_forward(Int64(count), Int64(dim), Int64(inputDim), table, indices, &y) == -1)
                ck_embedding_backward(Int64(count), Int64(dim), Int64(inputDim), indices, dy, &grad)
                #expect(y == want, "gather \(count)×\(dim) \(String(cString: ck_isa_name(isa))) ×\(threads)")
                #expect(grad == wantGrad, "scatter \(count)×\(dim) \(String(cString: ck_isa_name(isa))) ×\(threads)")
            }
        }
    }

    @Test func embeddingRejectsBadIndices() {
        let table: [Float] = [1, 2, 3, 4, 5, 6]  // [3, 2]
        for (bad, position) in [(Float(3), 2), (-1, 1), (.nan, 0), (1e9, 3)] {
            var indices: [Float] = [0, 1, 2, 1]
            indices[position] = bad
            var y = [Float](repeating: -7, count: 8)
            #expect(ck_embedding_forward(4, 2, 3, table, indices, &y) == Int64(position), "index \(bad)")
            #expect(y.allSatisfy { $0 == -7 }, "nothing written for \(bad)")
        }
        var y = [Float](repeating: 0, count: 2)
        #expect(ck_embedding_forward(1, 2, 3, table, [-0.5], &y) == -1)  // truncates to row 0, as TF's cast
        #expect(y == [1, 2])
    }

    @Test func truncatedNormal() {
        let n = 100_003
        var want = [Float](repeating: 0, count: n)
        ck_random_truncated_normal_reference(Int64(n), 9, 11, 1, 2, &want)
        KernelSweep.forEachConfiguration { isa, threads in
            var y = [Float](repeating: .nan, count: n)
            ck_random_truncated_normal(Int64(n), 9, 11, 1, 2, &y)
            #expect(y == want, "truncated normal \(String(cString: ck_isa_name(isa))) ×\(threads)")
        }
        // N(1, 2) truncated to [−3, 5]: mean 1, stddev 2·0.87962566 = 1.7593; the sample mean's
        // standard error is 1.76/√n = 0.0056, the stddev's about 0.004.
        #expect(want.allSatisfy { $0 >= -3 && $0 <= 5 })
        let mean = want.reduce(0.0) { $0 + Double($1) } / Double(n)
        let sd = (want.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)).squareRoot()
        #expect(abs(mean - 1) < 0.03)
        #expect(abs(sd - 2 * 0.87962566103423978) < 0.02)
    }
}

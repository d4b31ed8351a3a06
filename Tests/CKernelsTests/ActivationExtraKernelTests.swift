import CKernels
import Foundation
import Testing

/// activation_extra.c (celu … threshold, glu, sparsemax) against its double-precision references
/// on every ISA path and 1–3 threads, on sizes that cross the block (256) and threading (4096)
/// boundaries, plus Keras's sub-gradients at the kinks.
@Suite(.serialized)
struct ActivationExtraKernelTests {
    static let functions: [(String, ck_act2_fn, Float, Float)] = [
        ("celu", CK_ACT2_CELU, 1, 0), ("celu α=0.5", CK_ACT2_CELU, 0.5, 0),
        ("hard_tanh", CK_ACT2_HARD_TANH, 0, 0), ("hard_shrink", CK_ACT2_HARD_SHRINK, 0.5, 0),
        ("soft_shrink", CK_ACT2_SOFT_SHRINK, 0.5, 0), ("tanh_shrink", CK_ACT2_TANH_SHRINK, 0, 0),
        ("log_sigmoid", CK_ACT2_LOG_SIGMOID, 0, 0), ("sparse_plus", CK_ACT2_SPARSE_PLUS, 0, 0),
        ("sparse_sigmoid", CK_ACT2_SPARSE_SIGMOID, 0, 0), ("squareplus", CK_ACT2_SQUAREPLUS, 4, 0),
        ("squareplus b=1", CK_ACT2_SQUAREPLUS, 1, 0), ("threshold", CK_ACT2_THRESHOLD, 0.5, -2),
    ]

    /// Inputs over [−12, 12] with the kinks planted at the front.
    static func inputs(_ n: Int, seed: UInt32) -> [Float] {
        var x = KernelSweep.operands(n, seed: seed, in: -12...12)
        let special: [Float] = [0, -0.0, 1, -1, 0.5, -0.5, 1e-30, -90, 80, -20, 0.25]
        for (i, v) in special.enumerated() where i < n { x[i] = v }
        return x
    }

    /// As ActivationKernelTests: a few ulp relative plus cancellation (eˣ − 1, x − tanh x) of a
    /// few ulp of 1 scaled by |x|.
    static func close(_ got: Float, _ want: Float, x: Float) -> Bool {
        if got.isNaN || want.isNaN { return got.isNaN && want.isNaN }
        if got == want { return true }
        return (got - want).magnitude <= 8 * want.magnitude.ulp + 4e-7 * Swift.max(1, x.magnitude)
    }

    @Test func forwardAndBackwardMatchReference() {
        for n in [0, 1, 3, 17, 257, 9001] {
            let x = Self.inputs(n, seed: 11)
            let dy = KernelSweep.operands(n, seed: 12)
            for (name, fn, a, b) in Self.functions {
                var want = [Float](repeating: 0, count: n), wantDx = want
                ck_activation2_forward_reference(fn, a, b, Int64(n), x, &want)
                ck_activation2_backward_reference(fn, a, b, Int64(n), x, dy, &wantDx)
                KernelSweep.forEachConfiguration { isa, threads in
                    var y = [Float](repeating: .nan, count: n), dx = y
                    ck_activation2_forward(fn, a, b, Int64(n), x, &y)
                    ck_activation2_backward(fn, a, b, Int64(n), x, dy, &dx)
                    let where_ = "\(name) n=\(n) \(String(cString: ck_isa_name(isa))) ×\(threads)"
                    let bad = (0..<n).first { !Self.close(y[$0], want[$0], x: x[$0]) }
                    #expect(bad == nil, "\(where_): x=\(bad.map { x[$0] } ?? 0) got \(bad.map { y[$0] } ?? 0) want \(bad.map { want[$0] } ?? 0)")
                    let badDx = (0..<n).first { !Self.close(dx[$0], wantDx[$0], x: x[$0]) }
                    #expect(badDx == nil, "\(where_)': x=\(badDx.map { x[$0] } ?? 0) got \(badDx.map { dx[$0] } ?? 0) want \(badDx.map { wantDx[$0] } ?? 0)")
                }
            }
        }
    }

    /// TF's sub-gradients at the kinks of Keras's expressions (checked against Keras 3.15.1).
    @Test func slopesAtKinks() {
        func slope(_ fn: ck_act2_fn, _ a: Float, at x: Float) -> Float {
            var xv = x, one: Float = 1, dx: Float = 0
            ck_activation2_backward(fn, a, 0, 1, &xv, &one, &dx)
            return dx
        }
        #expect(slope(CK_ACT2_CELU, 1, at: 0) == 2)
        #expect(slope(CK_ACT2_HARD_TANH, 0, at: 1) == 1)
        #expect(slope(CK_ACT2_HARD_TANH, 0, at: -1) == 1)
        #expect(slope(CK_ACT2_HARD_SHRINK, 0.5, at: 0.5) == 0)
        #expect(slope(CK_ACT2_SOFT_SHRINK, 0.5, at: -0.5) == 0)
        #expect(slope(CK_ACT2_SPARSE_PLUS, 0, at: -1) == 0)
        #expect(slope(CK_ACT2_SPARSE_PLUS, 0, at: 1) == 1)
        #expect(slope(CK_ACT2_SPARSE_SIGMOID, 0, at: 1) == 0)
        #expect(slope(CK_ACT2_SPARSE_SIGMOID, 0, at: 0) == 0.5)
        #expect(slope(CK_ACT2_THRESHOLD, 0.5, at: 0.5) == 0)
    }

    @Test func gluMatchesReference() {
        for (rows, half) in [(1, 1), (3, 5), (17, 300), (40, 129)] {
            let x = KernelSweep.operands(rows * 2 * half, seed: 21, in: -9...9)
            let dy = KernelSweep.operands(rows * half, seed: 22)
            var want = [Float](repeating: 0, count: rows * half)
            var wantDx = [Float](repeating: 0, count: rows * 2 * half)
            ck_glu_forward_reference(Int64(rows), Int64(half), x, &want)
            ck_glu_backward_reference(Int64(rows), Int64(half), x, dy, &wantDx)
            KernelSweep.forEachConfiguration { isa, threads in
                var y = [Float](repeating: .nan, count: rows * half)
                var dx = [Float](repeating: .nan, count: rows * 2 * half)
                ck_glu_forward(Int64(rows), Int64(half), x, &y)
                ck_glu_backward(Int64(rows), Int64(half), x, dy, &dx)
                let ok = (0..<y.count).allSatisfy { Self.close(y[$0], want[$0], x: x[$0 / half * 2 * half + $0 % half]) }
                let okDx = (0..<dx.count).allSatisfy { Self.close(dx[$0], wantDx[$0], x: 9) }
                #expect(ok && okDx, "glu \(rows)×\(half) \(String(cString: ck_isa_name(isa))) ×\(threads)")
            }
        }
    }

    @Test func sparsemaxMatchesReferenceAndKeras() {
        for (rows, n) in [(1, 1), (5, 3), (17, 17), (9, 300)] {
            var x = KernelSweep.operands(rows * n, seed: 31, in: -2...2)
            if n >= 3 { x[1] = x[0]; x[2] = x[0] }   // ties, broken by index
            let dy = KernelSweep.operands(rows * n, seed: 32)
            var want = [Float](repeating: 0, count: rows * n), wantDx = want
            ck_sparsemax_forward_reference(Int64(rows), Int64(n), x, &want)
            ck_sparsemax_backward_reference(Int64(rows), Int64(n), x, dy, &wantDx)
            KernelSweep.forEachConfiguration { isa, threads in
                var y = [Float](repeating: .nan, count: rows * n), dx = y
                ck_sparsemax_forward(Int64(rows), Int64(n), x, &y)
                ck_sparsemax_backward(Int64(rows), Int64(n), x, dy, &dx)
                // τ sums up to n cumulative sums in float: a few ulp of n·max|x|.
                let tol: Float = 2e-6 * Float(n)
                let ok = zip(y, want).allSatisfy { abs($0 - $1) <= tol }
                let okDx = zip(dx, wantDx).allSatisfy { abs($0 - $1) <= tol * 4 }
                #expect(ok && okDx, "sparsemax \(rows)×\(n) \(String(cString: ck_isa_name(isa))) ×\(threads)")
            }
        }
        // Keras 3.15.1 (TF): values and the gradient of Σ y·w, including its τ and tie order.
        let x: [Float] = [0.5, 0.4, -1, 0.2, 1, 0, 0, -3, 0.1, 0.1, 0.1, 0.1]
        let w: [Float] = [1, 2, 3, 4, 1, -1, 2, 0.5, 0.3, 0.2, 0.1, 0.7]
        var y = [Float](repeating: 0, count: 12), dx = y
        ck_sparsemax_forward(3, 4, x, &y)
        ck_sparsemax_backward(3, 4, x, w, &dx)
        let kerasY: [Float] = [0, 0, 0, 0, 1, 0, 0, 0, 0.1, 0.1, 0.1, 0.1]
        let kerasDx: [Float] = [0, -0.6666667, 0, -0.33333334, -1, -1, 2, 0, -0.99999994, -0.775, -0.54999995, 0.375]
        #expect(zip(y, kerasY).allSatisfy { abs($0 - $1) < 1e-6 }, "\(y)")
        #expect(zip(dx, kerasDx).allSatisfy { abs($0 - $1) < 1e-6 }, "\(dx)")
    }
}

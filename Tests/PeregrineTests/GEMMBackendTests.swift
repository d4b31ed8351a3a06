import CKernels
import Testing

import Peregrine

/// The Swift layer's GEMM switch: every backend this build has gives the reference product,
/// bias and activation included, and an unavailable backend is refused rather than half-chosen.
@Suite(.serialized)
struct GEMMBackendTests {
    /// Deterministic operands in [-1, 1) without any kernel: a linear congruential sequence.
    static func operands(_ count: Int, seed: UInt32) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24) * 2 - 1
        }
    }

    @Test(arguments: GEMM.availableBackends)
    func backendMatchesReference(backend: GEMM.Backend) {
        let (m, n, k) = (37, 19, 41)
        let a = Self.operands(k * m, seed: 1)  // stored transposed: k×m
        let b = Self.operands(k * n, seed: 2)
        let bias = Self.operands(n, seed: 3)
        var c = [Float](repeating: .nan, count: m * n)
        var want = c
        let saved = GEMM.backend
        GEMM.backend = backend
        defer { GEMM.backend = saved }
        #expect(GEMM.backend == backend)
        GEMM.sgemm(
            transA: true, transB: false, m: m, n: n, k: k, alpha: 0.5, a: a, lda: m, b: b,
            ldb: n, beta: 0, c: &c, ldc: n, bias: bias, activation: CK_ACT_TANH)
        ck_sgemm_reference(1, 0, 37, 19, 41, 0.5, a, 37, b, 19, 0, &want, 19, bias, CK_ACT_TANH)
        for i in 0..<c.count {
            #expect(abs(c[i] - want[i]) <= 1e-5, "element \(i): \(c[i]) vs \(want[i])")
        }
    }

    @Test func unavailableBackendKeepsNative() {
        let saved = GEMM.backend
        defer { GEMM.backend = saved }
        GEMM.backend = .openBLAS
        #expect(GEMM.backend == (GEMM.availableBackends.contains(.openBLAS) ? .openBLAS : .native))
    }
}

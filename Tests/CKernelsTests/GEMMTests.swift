import CKernels
import Testing

/// ck_sgemm / ck_sgemm_bias_act / ck_bias_activation against ck_sgemm_reference (double
/// accumulation), on every ISA path this CPU has and with 1, 2 and 3 threads.
///
/// These tests switch the process-wide ISA and thread count, so they run serialized among
/// themselves. Other suites' kernels may run concurrently while a setting is switched; that is
/// harmless because every path gives correct results — only their speed changes.
@Suite(.serialized)
struct GEMMTests {
    // MARK: - Operands and the error bound

    /// Deterministic operands in [-1, 1): a linear congruential sequence, no kernel involved.
    static func operands(_ count: Int, seed: UInt32) -> [Float] {
        var state = seed &* 2_654_435_761 &+ 12345
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24) * 2 - 1
        }
    }

    /// Every ISA path the CPU supports, each with 1, 2 and 3 threads; restores the defaults.
    static func forEachConfiguration(_ body: (ck_isa, Int32) -> Void) {
        defer {
            _ = ck_set_thread_isa(-1)
            ck_set_thread_num_threads(0)
        }
        for isa in [CK_ISA_GENERIC, CK_ISA_AVX2, CK_ISA_AVX512]
        where isa.rawValue <= ck_isa_best_supported().rawValue {
            #expect(ck_set_thread_isa(Int32(isa.rawValue)) == 0)
            for threads: Int32 in [1, 2, 3] {
                ck_set_thread_num_threads(threads)
                body(isa, threads)
            }
        }
    }

    /// One GEMM problem with its operands stored with padded leading dimensions.
    struct Problem {
        let transA: Int32, transB: Int32, m: Int, n: Int, k: Int
        let alpha: Float, beta: Float
        let lda: Int, ldb: Int, ldc: Int
        var a: [Float], b: [Float], c: [Float]
        let bias: [Float]?
        let act: ck_activation

        init(transA: Int32, transB: Int32, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
             bias: Bool = false, act: ck_activation = CK_ACT_IDENTITY, pad: Int = 3) {
            self.transA = transA; self.transB = transB
            self.m = m; self.n = n; self.k = k
            self.alpha = alpha; self.beta = beta
            // Leading dimensions larger than the rows, so kernels that assume ld == row length fail.
            lda = (transA != 0 ? m : k) + pad
            ldb = (transB != 0 ? k : n) + pad
            ldc = n + pad + 2
            a = GEMMTests.operands(max(1, (transA != 0 ? k : m) * lda), seed: UInt32(m * 7 + k))
            b = GEMMTests.operands(max(1, (transB != 0 ? n : k) * ldb), seed: UInt32(n * 13 + k))
            // beta == 0 must not read C: fill it with NaN so any read poisons the result.
            c = beta == 0
                ? [Float](repeating: .nan, count: max(1, m * ldc))
                : GEMMTests.operands(max(1, m * ldc), seed: UInt32(m + n))
            self.bias = bias ? GEMMTests.operands(max(1, n), seed: 99) : nil
            self.act = act
        }

        /// (reference result, per-element error bound). The bound is the classic one for a
        /// float dot product of length k against an exact one: |err| ≤ γ·Σ|alpha·a·b| with
        /// γ = k·eps/(1 - k·eps) for any summation order; we allow 2·(k+2)·eps to cover the
        /// alpha/beta/bias roundings of the epilogue, plus 1e-6 absolute for activations whose
        /// scalar expf/tanhf are a few ulp off and for results that cancel to ~0. Sigmoid, tanh
        /// and ReLU are 1-Lipschitz, so the bound carries through the activation.
        func reference() -> (want: [Float], bound: [Float]) {
            var want = c
            var magnitude = [Float](repeating: 0, count: c.count)
            let absA = a.map { abs($0) }, absB = b.map { abs($0) }
            ck_sgemm_reference(transA, transB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                               b, Int32(ldb), beta, &want, Int32(ldc), bias, act)
            // Σ|alpha·a·b| + |beta·c| + |bias|, computed with the same reference on |A|, |B|.
            let absC = c.map { beta == 0 ? 0 : abs(beta * $0) }
            magnitude = absC
            ck_sgemm_reference(transA, transB, Int32(m), Int32(n), Int32(k), abs(alpha), absA,
                               Int32(lda), absB, Int32(ldb), 1, &magnitude, Int32(ldc),
                               bias.map { $0.map { abs($0) } }, CK_ACT_IDENTITY)
            let gamma = 2 * Float(k + 2) * Float.ulpOfOne
            return (want, magnitude.map { gamma * $0 + 1e-6 })
        }

        /// Runs the kernel on a copy of C; returns the result.
        func run() -> [Float] {
            var out = c
            ck_sgemm_bias_act(transA, transB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                              b, Int32(ldb), beta, &out, Int32(ldc), bias, act)
            return out
        }

        /// Compares the m×n part with the reference and checks the padding of C is untouched.
        func check(_ got: [Float], against want: [Float], bound: [Float], _ label: String) {
            var failures = 0
            for i in 0..<m {
                for j in 0..<ldc {
                    let idx = i * ldc + j
                    let ok: Bool
                    if j < n {
                        ok = abs(got[idx] - want[idx]) <= bound[idx]  // false for NaN
                    } else {
                        ok = got[idx].bitPattern == c[idx].bitPattern  // outside C: never written
                    }
                    if !ok {
                        failures += 1
                        if failures <= 3 {
                            Issue.record("\(label): C[\(i)][\(j)] = \(got[idx]), want \(want[idx]) ± \(bound[idx])")
                        }
                    }
                }
            }
            #expect(failures == 0, "\(label): \(failures) wrong elements")
        }

        var label: String {
            "\(transA != 0 ? "T" : "N")\(transB != 0 ? "T" : "N") m=\(m) n=\(n) k=\(k) alpha=\(alpha) beta=\(beta)"
                + (bias != nil ? " bias" : "") + " act=\(act.rawValue)"
        }
    }

    // MARK: - ck_sgemm

    /// Sizes across the edges: 0, 1, odd sizes below and above the tiles (MR = 4/6/12,
    /// NR = 16/32), k beyond one KC block (384, or 800 for A read in place), n beyond one NC block
    /// (512, so A is packed), and the NN layers' skinny shapes.
    static let shapes: [(Int, Int, Int)] = [
        (0, 5, 7), (5, 0, 7), (5, 7, 0), (1, 1, 1), (3, 17, 33), (17, 3, 127), (33, 127, 3),
        (127, 33, 17), (300, 17, 33), (17, 300, 127), (33, 33, 300), (127, 127, 127),
        (1, 300, 300), (300, 1, 33), (128, 10, 512), (13, 70, 800), (40, 600, 33), (100, 33, 1),
        (50, 509, 100),  // ldb = 509 + 3 = 512: an untransposed B whose rows alias is packed
        // Untransposed A read in place takes k blocks up to 800 deep (AVX-512): one block at
        // 700 and 800, two at 801, 1700 as three (beta and the epilogue on the right ones).
        (40, 61, 700), (30, 100, 801), (29, 64, 1700),
    ] + smallPathShapes

    /// Both sides of the small-matrix path's limits (one thread below 2·10^6 flops; one block:
    /// k ≤ KC = 384 and n ≤ NC = 512 on AVX-512), and the tiny products it exists for, with
    /// every edge-row count of A read in place (m mod 12 = 1…11).
    static let smallPathShapes: [(Int, Int, Int)] = [
        (8, 8, 8), (16, 16, 16), (33, 17, 5), (2, 40, 7), (23, 16, 3), (11, 33, 9),
        (100, 100, 99), (100, 100, 100),  // 1,980,000 flops: small path; 2,000,000: threaded
        (7, 32, 384), (7, 32, 385),  // k = KC: one block; KC + 1: two
        (1, 512, 100), (1, 513, 100),  // n = NC: one block; NC + 1: two
    ]

    @Test("ck_sgemm matches the reference", arguments: shapes.indices)
    func sgemmMatchesReference(shapeIndex: Int) {
        let (m, n, k) = Self.shapes[shapeIndex]
        for (transA, transB) in [(Int32(0), Int32(0)), (0, 1), (1, 0), (1, 1)] {
            for (alpha, beta) in [(Float(1), Float(0)), (0.75, -1.5)] {
                let problem = Problem(transA: transA, transB: transB, m: m, n: n, k: k,
                                      alpha: alpha, beta: beta)
                let (want, bound) = problem.reference()
                Self.forEachConfiguration { isa, threads in
                    var got = problem.c
                    ck_sgemm(transA, transB, Int32(m), Int32(n), Int32(k), alpha, problem.a,
                             Int32(problem.lda), problem.b, Int32(problem.ldb), beta, &got,
                             Int32(problem.ldc))
                    problem.check(got, against: want, bound: bound,
                                  "\(problem.label) isa=\(String(cString: ck_isa_name(isa))) threads=\(threads)")
                }
            }
        }
    }

    /// The matrix-vector path (gemm_skinny.c: M ≤ 4 or N ≤ 4 on AVX-512) and both sides of its
    /// limits: M or N = 1…5, odd N and K (masked tails of every chunk width and of the k loop),
    /// k below and above the dot form's 32, products above 2·10^6 flops (threaded along the long
    /// operand), and the Dense-on-one-sample shape (1, 512, 784).
    static let skinnyShapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 37, 33), (2, 129, 31), (3, 200, 45), (4, 65, 100), (5, 47, 33),
        (1, 10, 512), (2, 3, 40), (4, 4, 31), (1, 1000, 5), (1, 512, 784),
        (37, 1, 33), (129, 2, 31), (45, 3, 200), (100, 4, 65), (47, 5, 33), (1000, 1, 5),
        (3, 700, 501), (501, 3, 700),
    ]

    @Test("Matrix-vector shapes match the reference", arguments: skinnyShapes.indices)
    func skinnyMatchesReference(shapeIndex: Int) {
        let (m, n, k) = Self.skinnyShapes[shapeIndex]
        // (alpha, beta, bias, activation): plain, alpha/beta scaling, and the fused epilogues.
        let epilogues: [(Float, Float, Bool, ck_activation)] = [
            (1, 0, false, CK_ACT_IDENTITY), (0.75, -1.5, false, CK_ACT_IDENTITY),
            (1, 0, true, CK_ACT_RELU), (0.5, 0.25, true, CK_ACT_SIGMOID), (1, 0, true, CK_ACT_TANH),
        ]
        // The threaded shapes (slow in a debug build) take one of the epilogues.
        let large = 2 * m * n * k > 2_000_000
        for (transA, transB) in [(Int32(0), Int32(0)), (0, 1), (1, 0), (1, 1)] {
            for (e, (alpha, beta, bias, act)) in epilogues.enumerated() where !large || e == 3 {
                let problem = Problem(transA: transA, transB: transB, m: m, n: n, k: k,
                                      alpha: alpha, beta: beta, bias: bias, act: act)
                let (want, bound) = problem.reference()
                Self.forEachConfiguration { isa, threads in
                    problem.check(problem.run(), against: want, bound: bound,
                                  "\(problem.label) isa=\(String(cString: ck_isa_name(isa))) threads=\(threads)")
                }
            }
        }
    }

    /// Many B blocks and many A blocks: M beyond MC (3072 on AVX-512) with N beyond NC, on the
    /// best path.
    @Test func sgemmLargeBlocks() {
        for (transA, transB) in [(Int32(0), Int32(0)), (1, 1)] {
            let problem = Problem(transA: transA, transB: transB, m: 3100, n: 530, k: 20,
                                  alpha: 1, beta: 0.5)
            let (want, bound) = problem.reference()
            for threads: Int32 in [1, 2] {
                ck_set_thread_num_threads(threads)
                problem.check(problem.run(), against: want, bound: bound, problem.label)
            }
            ck_set_thread_num_threads(0)
        }
    }

    /// Threads split along N whose columns span more than one B block (NC = 512) pack A together
    /// into shared buffers (gemm.c, gemm_shared_a): 1600 columns on 2 or 3 threads, k = 400 in
    /// two KC blocks (both buffers in turn), 25 rows in 3 slivers shared unevenly, the last
    /// one ragged; both layouts of A.
    @Test func sgemmSharedPackedA() {
        for (transA, transB, beta, bias, act) in [
            (Int32(0), Int32(0), Float(0), false, CK_ACT_IDENTITY), (1, 1, 0.5, true, CK_ACT_RELU),
        ] {
            do {
                let problem = Problem(transA: transA, transB: transB, m: 25, n: 1600, k: 400,
                                      alpha: 1, beta: beta, bias: bias, act: act)
                let (want, bound) = problem.reference()
                Self.forEachConfiguration { isa, threads in
                    problem.check(problem.run(), against: want, bound: bound,
                                  "\(problem.label) isa=\(String(cString: ck_isa_name(isa))) threads=\(threads)")
                }
            }
        }
    }

    /// alpha == 0 never reads A or B (NaN there must not leak), k == 0 only scales C.
    @Test func alphaZeroAndEmptyKOnlyScaleC() {
        for (m, n, k) in [(3, 17, 33), (33, 40, 5), (17, 3, 0), (16, 16, 16), (100, 100, 100),
                          (1, 37, 40), (40, 3, 40)] {
            for beta: Float in [0, 2] {
                for (bias, act) in [(false, CK_ACT_IDENTITY), (true, CK_ACT_RELU), (true, CK_ACT_TANH)] {
                    var problem = Problem(transA: 0, transB: 1, m: m, n: n, k: k,
                                          alpha: k == 0 ? 1 : 0, beta: beta, bias: bias, act: act)
                    if k > 0 {
                        problem.a = [Float](repeating: .nan, count: problem.a.count)
                        problem.b = [Float](repeating: .nan, count: problem.b.count)
                    }
                    // The reference multiplies NaN by alpha = 0 only when alpha != 0, so it is exact.
                    let (want, _) = Problem(transA: 0, transB: 1, m: m, n: n, k: k,
                                            alpha: 0, beta: beta, bias: bias, act: act).reference()
                    let bound = [Float](repeating: 1e-6, count: want.count)
                    Self.forEachConfiguration { isa, threads in
                        problem.check(problem.run(), against: want, bound: bound,
                                      "\(problem.label) isa=\(String(cString: ck_isa_name(isa))) threads=\(threads)")
                    }
                }
            }
        }
    }

    // MARK: - ck_sgemm_bias_act and ck_bias_activation

    static let activations = [CK_ACT_IDENTITY, CK_ACT_RELU, CK_ACT_SIGMOID, CK_ACT_TANH]

    @Test("ck_sgemm_bias_act matches the reference", arguments: activations.map(\.rawValue), [false, true])
    func biasActMatchesReference(actRaw: UInt32, withBias: Bool) {
        let act = ck_activation(rawValue: actRaw)
        for (m, n, k) in [(1, 1, 1), (17, 33, 3), (33, 17, 127), (127, 10, 400), (40, 70, 33),
                          (16, 16, 16), (7, 32, 385)] {
            for (transA, transB) in [(Int32(0), Int32(0)), (0, 1), (1, 0), (1, 1)] {
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 0.25)] {
                    let problem = Problem(transA: transA, transB: transB, m: m, n: n, k: k,
                                          alpha: alpha, beta: beta, bias: withBias, act: act)
                    let (want, bound) = problem.reference()
                    Self.forEachConfiguration { isa, threads in
                        problem.check(problem.run(), against: want, bound: bound,
                                      "\(problem.label) isa=\(String(cString: ck_isa_name(isa))) threads=\(threads)")
                    }
                }
            }
        }
    }

    @Test("ck_bias_activation matches the reference", arguments: activations.map(\.rawValue))
    func biasActivationStandalone(actRaw: UInt32) {
        let act = ck_activation(rawValue: actRaw)
        for (m, n) in [(1, 1), (3, 17), (300, 33), (2000, 40)] {
            for withBias in [false, true] {
                let ldc = n + 5
                let c = Self.operands(m * ldc, seed: UInt32(m * n)).map { $0 * 4 }
                let bias = withBias ? Self.operands(n, seed: 7) : nil
                // The reference with k = 0 and beta = 1 is exactly C = act(C + bias).
                var want = c
                ck_sgemm_reference(0, 0, Int32(m), Int32(n), 0, 1, nil, 1, nil, Int32(n), 1, &want,
                                   Int32(ldc), bias, act)
                Self.forEachConfiguration { isa, threads in
                    var got = c
                    ck_bias_activation(Int32(m), Int32(n), bias, act, &got, Int32(ldc))
                    var failures = 0
                    for i in 0..<m {
                        for j in 0..<ldc {
                            let idx = i * ldc + j
                            let ok = j < n
                                ? abs(got[idx] - want[idx]) <= 4 * Float.ulpOfOne * abs(want[idx]) + 1e-6
                                : got[idx].bitPattern == c[idx].bitPattern
                            if !ok { failures += 1 }
                        }
                    }
                    #expect(failures == 0,
                            "act=\(actRaw) m=\(m) n=\(n) bias=\(withBias) isa=\(String(cString: ck_isa_name(isa))) threads=\(threads)")
                }
            }
        }
    }
}

import CKernels
import Testing

/// The fused optimizer updates against plain Swift loops of Keras's formulas. Swift never fuses
/// a multiply and an add on its own, and the kernels switch contraction off, so the two must
/// agree bit for bit on every ISA path and thread count — any reordering of Keras's roundings
/// shows up here as a failure.
@Suite(.serialized)
struct OptimizerUpdateTests {
    static let sizes = [0, 1, 17, 100_003]  // 100_003 crosses the threading threshold

    /// Deterministic values in [lo, hi) with no kernel involved.
    static func values(_ n: Int, seed: UInt32, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return lo + (hi - lo) * Float(state >> 8) / Float(1 << 24)
        }
    }

    /// Runs `body` on every ISA path the CPU has and on 1, 2 and 3 threads.
    static func onEveryPath(_ body: () -> Void) {
        defer {
            _ = ck_set_thread_isa(-1)
            ck_set_thread_num_threads(0)
        }
        for isa in [CK_ISA_GENERIC, CK_ISA_AVX2, CK_ISA_AVX512]
        where isa.rawValue <= ck_isa_best_supported().rawValue {
            #expect(ck_set_thread_isa(Int32(isa.rawValue)) == 0)
            for threads in 1...3 {
                ck_set_thread_num_threads(Int32(threads))
                body()
            }
        }
    }

    @Test(arguments: sizes, [false, true])
    func sgdMomentum(n: Int, nesterov: Bool) {
        let (lr, mu): (Float, Float) = (0.01, 0.9)
        let g = Self.values(n, seed: 1)
        Self.onEveryPath {
            var w = Self.values(n, seed: 2), m = Self.values(n, seed: 3)
            var wantW = w, wantM = m
            for i in 0..<n {
                wantM[i] = -g[i] * lr + wantM[i] * mu
                wantW[i] = nesterov ? wantW[i] + (-g[i] * lr + wantM[i] * mu) : wantW[i] + wantM[i]
            }
            ck_sgd_update(Int64(n), &w, g, &m, lr, mu, nesterov ? 1 : 0)
            #expect(w == wantW && m == wantM)
        }
    }

    /// The seed example of the design notes: one SGD(0.1) step from ones with the gradient
    /// [[2,-2],[4,-4],[6,-6]] gives Keras's float32 result, 0.39999998 included.
    @Test func sgdSeedExample() {
        var w: [Float] = [1, 1, 1, 1, 1, 1]
        let g: [Float] = [2, -2, 4, -4, 6, -6]
        ck_sgd_update(6, &w, g, nil, 0.1, 0, 0)
        #expect(w == [0.8, 1.2, 0.6, 1.4, 0.39999998, 1.6])
        #expect(w[4].bitPattern == Float(0.3999999761581421).bitPattern)
    }

    @Test(arguments: sizes, [false, true])
    func adam(n: Int, amsgrad: Bool) {
        let (alpha, b1, b2, eps): (Float, Float, Float, Float) = (0.0003, 0.1, 0.001, 1e-7)
        let g = Self.values(n, seed: 4)
        Self.onEveryPath {
            var w = Self.values(n, seed: 5), m = Self.values(n, seed: 6)
            var v = Self.values(n, seed: 7, 0, 1), vHat = Self.values(n, seed: 8, 0, 1)
            var want = (w: w, m: m, v: v, vHat: vHat)
            for i in 0..<n {
                want.m[i] = want.m[i] + (g[i] - want.m[i]) * b1
                want.v[i] = want.v[i] + (g[i] * g[i] - want.v[i]) * b2
                var vUsed = want.v[i]
                if amsgrad {
                    want.vHat[i] = max(want.vHat[i], want.v[i])
                    vUsed = want.vHat[i]
                }
                want.w[i] = want.w[i] - (want.m[i] * alpha) / (vUsed.squareRoot() + eps)
            }
            if amsgrad {
                ck_adam_update(Int64(n), &w, g, &m, &v, &vHat, alpha, b1, b2, eps)
                #expect(vHat == want.vHat)
            } else {
                ck_adam_update(Int64(n), &w, g, &m, &v, nil, alpha, b1, b2, eps)
            }
            #expect(w == want.w && m == want.m && v == want.v)
        }
    }

    @Test(arguments: sizes, [(false, false), (true, false), (false, true), (true, true)])
    func rmsprop(n: Int, variant: (centered: Bool, momentum: Bool)) {
        let (lr, rho, oneMinusRho, mu, eps): (Float, Float, Float, Float, Float) =
            (0.001, 0.9, 0.1, 0.5, 1e-7)
        let g = Self.values(n, seed: 9)
        Self.onEveryPath {
            var w = Self.values(n, seed: 10), v = Self.values(n, seed: 11, 0.5, 1)
            var meanG = Self.values(n, seed: 12, -0.1, 0.1), mom = Self.values(n, seed: 13)
            var want = (w: w, v: v, meanG: meanG, mom: mom)
            for i in 0..<n {
                want.v[i] = rho * want.v[i] + oneMinusRho * (g[i] * g[i])
                var den = want.v[i] + eps
                if variant.centered {
                    want.meanG[i] = rho * want.meanG[i] + oneMinusRho * g[i]
                    den = want.v[i] - want.meanG[i] * want.meanG[i] + eps
                }
                let inc = lr * g[i] / den.squareRoot()
                if variant.momentum {
                    want.mom[i] = mu * want.mom[i] + inc
                    want.w[i] = want.w[i] - want.mom[i]
                } else {
                    want.w[i] = want.w[i] - inc
                }
            }
            meanG.withUnsafeMutableBufferPointer { meanGp in
                mom.withUnsafeMutableBufferPointer { momp in
                    ck_rmsprop_update(
                        Int64(n), &w, g, &v, variant.centered ? meanGp.baseAddress : nil,
                        variant.momentum ? momp.baseAddress : nil, lr, rho, oneMinusRho, mu, eps)
                }
            }
            #expect(w == want.w && v == want.v && meanG == want.meanG && mom == want.mom)
        }
    }

    @Test(arguments: sizes)
    func adagradAndWeightDecay(n: Int) {
        let (lr, eps, wd): (Float, Float, Float) = (0.01, 1e-7, 0.004)
        let g = Self.values(n, seed: 14)
        Self.onEveryPath {
            var w = Self.values(n, seed: 15), acc = Self.values(n, seed: 16, 0.1, 1)
            var want = (w: w, acc: acc)
            for i in 0..<n {
                want.w[i] = want.w[i] - want.w[i] * wd * lr
                want.acc[i] = want.acc[i] + g[i] * g[i]
                want.w[i] = want.w[i] - lr * g[i] / (want.acc[i] + eps).squareRoot()
            }
            ck_weight_decay(Int64(n), &w, wd, lr)
            ck_adagrad_update(Int64(n), &w, g, &acc, lr, eps)
            #expect(w == want.w && acc == want.acc)
        }
    }
}

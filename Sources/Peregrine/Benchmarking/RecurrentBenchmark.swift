import CKernels

/// Times the LSTM kernels on one problem against `ck_sgemm` running exactly the products the
/// LSTM runs (same shapes, same transposes, same count), measured back to back in one process.
/// The ratio of the two is how close the recurrence (gate passes, per-step synchronisation,
/// gather/scatter) comes to the GEMMs it cannot avoid.
///
/// Forward products: the step `[B, in+u]·[in+u, 4u]` (input beside state, against the stacked
/// `[W ; U]`, bias in the store) T times. Backward adds `dh = dZ_s·Uᵀ` T−1 times, `dx = dZ·Wᵀ`
/// and `d[W ; U] = xhᵀ·dZ` (`[in+u, T·B]·[T·B, 4u]`).
///
/// ```swift
/// let bench = LSTMBenchmark(batch: 128, steps: 28, features: 28, units: 128)
/// let ratio = bench.gemmSeconds(backward: false) / bench.lstmSeconds(backward: false)
/// ```
public final class LSTMBenchmark {
    /// The problem: `x [batch, steps, features]`, `units` hidden units.
    public let batch, steps, features, units: Int
    private let buffers: [UnsafeMutablePointer<Float>]
    private let x, w, u, bias, saved, y, dy, scratch, dx, dw, du, db: UnsafeMutablePointer<Float>
    // The GEMM baseline's own operands.
    private let a1, b1, c1, a2, b2, c2: UnsafeMutablePointer<Float>

    /// The lstm workload: batch 128, 28 steps of 28 features, 128 units.
    public static func workload() -> LSTMBenchmark {
        LSTMBenchmark(batch: 128, steps: 28, features: 28, units: 128)
    }

    /// Allocates and fills (seeded uniform) every operand once.
    public init(batch: Int, steps: Int, features: Int, units: Int) {
        self.batch = batch
        self.steps = steps
        self.features = features
        self.units = units
        let (n, t, f, un) = (Int32(batch), Int32(steps), Int32(features), Int32(units))
        let g = 4 * units, tb = steps * batch
        var all: [UnsafeMutablePointer<Float>] = []
        func buffer(_ count: Int, seed: UInt64, scale: Float = 1) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
            ck_random_uniform(Int64(count), seed, 0, -scale, scale, p)
            all.append(p)
            return p
        }
        x = buffer(tb * features, seed: 1)
        w = buffer(features * g, seed: 2, scale: 0.1)
        u = buffer(units * g, seed: 3, scale: 0.1)
        bias = buffer(g, seed: 4)
        saved = buffer(Int(ck_lstm_saved_size(n, t, f, un)), seed: 5)
        y = buffer(tb * units, seed: 6)
        dy = buffer(tb * units, seed: 7)
        scratch = buffer(Int(ck_lstm_backward_scratch_size(n, t, f, un)), seed: 8)
        dx = buffer(tb * features, seed: 9)
        dw = buffer(features * g, seed: 10)
        du = buffer(units * g, seed: 11)
        db = buffer(g, seed: 12)
        let big = Swift.max(tb * g, tb * (features + units), (features + units) * g)
        a1 = buffer(big, seed: 13); b1 = buffer(big, seed: 14); c1 = buffer(big, seed: 15)
        a2 = buffer(big, seed: 16); b2 = buffer(big, seed: 17); c2 = buffer(big, seed: 18)
        buffers = all
    }

    deinit { buffers.forEach { $0.deallocate() } }

    /// Flops of the LSTM's GEMMs: forward only, or forward and backward.
    public func flops(backward: Bool) -> Double {
        let b = Double(batch), t = Double(steps), f = Double(features), un = Double(units), g = 4 * un
        let forward = 2 * t * b * f * g + t * 2 * b * un * g
        guard backward else { return forward }
        return forward + (t - 1) * 2 * b * g * un + 2 * t * b * g * f + 2 * f * t * b * g + 2 * un * t * b * g
    }

    /// One forward (and backward) pass of ck_lstm_* over the sequence, returning every h.
    public func runLSTM(backward: Bool) {
        let (n, t, f, un) = (Int32(batch), Int32(steps), Int32(features), Int32(units))
        ck_lstm_forward(n, t, f, un, 0, x, w, u, bias, nil, nil, saved, y, nil, nil)
        if backward {
            ck_lstm_backward(n, t, f, un, 0, w, u, saved, dy, nil, nil, scratch, dx, dw, du, db, nil, nil)
        }
    }

    /// The same products with ck_sgemm alone.
    public func runGEMMs(backward: Bool) {
        let (b, t, f, un) = (Int32(batch), Int32(steps), Int32(features), Int32(units))
        let g = 4 * un, tb = t * b, k = f + un
        for _ in 0..<steps { ck_sgemm_bias_act(0, 0, b, g, k, 1, a2, k, b2, g, 0, c2, g, b1, CK_ACT_IDENTITY) }
        guard backward else { return }
        for _ in 1..<Swift.max(steps, 1) { ck_sgemm(0, 1, b, un, g, 1, a2, g, b2, g, 0, c2, un) }
        ck_sgemm(0, 1, tb, f, g, 1, a1, g, b1, g, 0, c1, f)
        ck_sgemm(1, 0, k, g, tb, 1, a1, k, b1, g, 0, c1, g)
    }

    /// Best seconds of one run over `samples` samples of at least `sampleSeconds` each.
    public static func bestSeconds(samples: Int = 5, sampleSeconds: Double = 0.1, _ body: () -> Void) -> Double {
        body()
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<Swift.max(samples, 1) {
            var repeats = 0
            let start = clock.now
            var elapsed = 0.0
            repeat {
                body()
                repeats += 1
                elapsed = (clock.now - start).seconds
            } while elapsed < sampleSeconds
            best = Swift.min(best, elapsed / Double(repeats))
        }
        return best
    }

    /// Best seconds of the GEMM baseline and of the LSTM kernels, sampled alternately (one sample
    /// of each per round) so that both see the same load on a shared machine.
    ///
    /// ```swift
    /// let (gemm, lstm) = bench.compare(backward: true)
    /// print("\(100 * gemm / lstm)% of the GEMMs")
    /// ```
    public func compare(backward: Bool, samples: Int = 5) -> (gemm: Double, lstm: Double) {
        var gemm = Double.infinity, lstm = Double.infinity
        for _ in 0..<Swift.max(samples, 1) {
            gemm = Swift.min(gemm, Self.bestSeconds(samples: 1) { runGEMMs(backward: backward) })
            lstm = Swift.min(lstm, Self.bestSeconds(samples: 1) { runLSTM(backward: backward) })
        }
        return (gemm, lstm)
    }

    /// Best seconds of the LSTM kernels.
    public func lstmSeconds(backward: Bool, samples: Int = 5) -> Double {
        Self.bestSeconds(samples: samples) { runLSTM(backward: backward) }
    }

    /// Best seconds of the GEMM baseline.
    public func gemmSeconds(backward: Bool, samples: Int = 5) -> Double {
        Self.bestSeconds(samples: samples) { runGEMMs(backward: backward) }
    }
}

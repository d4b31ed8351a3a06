import CKernels
import Testing

/// The recurrent kernels (LSTM, GRU both reset_after variants, SimpleRNN) against their plain
/// references — every output of forward and every gradient of backward — on odd shapes (batch
/// 1, 3, 17 and 33, time 1, 3 and 5, units 1, 5, 17, 3 inputs), both directions, every ISA path and 1–3
/// threads; and the QR behind the orthogonal initializer.
///
/// Tolerance: the tuned path sums in float (GEMM) and uses the gates' rational sigmoid/tanh
/// (≤ 4e-7 absolute, `RecurrentActivationTests`), the reference sums in double with libm; over 5
/// steps of O(1) values the differences are ~1e-6,
/// so 2e-5 absolute plus 1e-4 relative catches any wrong index or formula (errors ~1e-1).
@Suite(.serialized)
struct RecurrentKernelTests {
    /// (batch, time, inputs, units, goBackwards)
    static let shapes: [(Int, Int, Int, Int, Bool)] = [
        (1, 1, 3, 1, false), (3, 5, 3, 5, true), (3, 5, 3, 17, false), (1, 5, 3, 17, true),
        (3, 1, 3, 5, true), (3, 5, 3, 1, false),
        // enough rows that the batch is split over 2 and 3 threads (4 rows a thread at least)
        (17, 5, 3, 5, true), (33, 3, 3, 17, false),
        // 4·units = 256: the LSTM reads U at a padded leading dimension (rnn_step_ld)
        (5, 3, 3, 64, true),
    ]

    /// A zero-initialised float buffer that outlives the C calls of one comparison.
    final class Buffer {
        let pointer: UnsafeMutablePointer<Float>
        let count: Int
        init(_ count: Int, fill: Float = 0) {
            self.count = count
            pointer = .allocate(capacity: Swift.max(count, 1))
            pointer.initialize(repeating: fill, count: Swift.max(count, 1))
        }
        convenience init(_ values: [Float]) {
            self.init(values.count)
            pointer.update(from: values, count: values.count)
        }
        deinit { pointer.deallocate() }
        var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    }

    static func expectClose(_ got: [Float], _ want: [Float], _ what: String) {
        #expect(got.count == want.count)
        var worst = 0.0, at = -1
        for i in 0..<Swift.min(got.count, want.count) {
            let excess = Double(abs(got[i] - want[i])) - (2e-5 + 1e-4 * Double(abs(want[i])))
            if excess > worst || got[i].isNaN { worst = got[i].isNaN ? .infinity : excess; at = i }
        }
        #expect(at < 0, "\(what)[\(at)]: \(at >= 0 ? got[at] : 0) vs \(at >= 0 ? want[at] : 0)")
    }

    typealias Forward = (_ x: Buffer, _ saved: Buffer, _ outputs: [Buffer]) -> Void
    typealias Backward = (_ saved: Buffer, _ upstream: [Buffer], _ scratch: Buffer, _ grads: [Buffer]) -> Void

    /// Runs forward then backward with the tuned and the reference kernels on the same operands
    /// (upstream gradients on every output) and compares every result.
    static func compare(
        _ name: String, outputSizes: [Int], gradSizes: [Int], xCount: Int, savedCount: Int,
        scratchCount: Int, tuned: (Forward, Backward), reference: (Forward, Backward)
    ) {
        let x = Buffer(KernelSweep.operands(xCount, seed: 11))
        let upstream = outputSizes.enumerated().map { Buffer(KernelSweep.operands($1, seed: UInt32(20 + $0))) }
        func run(_ pair: (Forward, Backward)) -> [[Float]] {
            let saved = Buffer(savedCount, fill: .nan), scratch = Buffer(scratchCount + 1, fill: .nan)
            let outputs = outputSizes.map { Buffer($0, fill: .nan) }
            let grads = gradSizes.map { Buffer($0, fill: .nan) }
            pair.0(x, saved, outputs)
            pair.1(saved, upstream, scratch, grads)
            return outputs.map(\.values) + grads.map(\.values)
        }
        let want = run(reference)
        KernelSweep.forEachConfiguration { isa, threads in
            let got = run(tuned)
            for (index, (g, w)) in zip(got, want).enumerated() {
                expectClose(g, w, "\(name) \(String(cString: ck_isa_name(isa))) \(threads)t result \(index)")
            }
        }
    }

    @Test func lstmAgainstReference() {
        for (b, t, i, u, back) in Self.shapes {
            let g = 4 * u, bu = b * u, goBack: Int32 = back ? 1 : 0
            let (n, s, f, un) = (Int32(b), Int32(t), Int32(i), Int32(u))
            let w = Buffer(KernelSweep.operands(i * g, seed: 1)), r = Buffer(KernelSweep.operands(u * g, seed: 2))
            let bias = Buffer(KernelSweep.operands(g, seed: 3)), h0 = Buffer(KernelSweep.operands(bu, seed: 4))
            let c0 = Buffer(KernelSweep.operands(bu, seed: 5))
            func pair(
                _ forward: @escaping (Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void,
                _ backward: @escaping (Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
            ) -> (Forward, Backward) {
                ({ x, saved, o in
                    forward(n, s, f, un, goBack, x.pointer, w.pointer, r.pointer, bias.pointer, h0.pointer, c0.pointer, saved.pointer, o[0].pointer, o[1].pointer, o[2].pointer)
                }, { saved, up, scratch, d in
                    backward(n, s, f, un, goBack, w.pointer, r.pointer, saved.pointer, up[0].pointer, up[1].pointer, up[2].pointer, scratch.pointer, d[0].pointer, d[1].pointer, d[2].pointer, d[3].pointer, d[4].pointer, d[5].pointer)
                })
            }
            Self.compare(
                "lstm \(b)x\(t)x\(i)→\(u)\(back ? " backwards" : "")", outputSizes: [b * t * u, bu, bu],
                gradSizes: [b * t * i, i * g, u * g, g, bu, bu], xCount: b * t * i,
                savedCount: Int(ck_lstm_saved_size(n, s, f, un)),
                scratchCount: Int(ck_lstm_backward_scratch_size(n, s, f, un)),
                tuned: pair(ck_lstm_forward, ck_lstm_backward),
                reference: pair(ck_lstm_forward_reference, ck_lstm_backward_reference))
        }
    }

    @Test(arguments: [true, false])
    func gruAgainstReference(resetAfter: Bool) {
        for (b, t, i, u, back) in Self.shapes {
            let g = 3 * u, bu = b * u, goBack: Int32 = back ? 1 : 0, after: Int32 = resetAfter ? 1 : 0
            let (n, s, f, un) = (Int32(b), Int32(t), Int32(i), Int32(u))
            let biasCount = resetAfter ? 2 * g : g
            let w = Buffer(KernelSweep.operands(i * g, seed: 1)), r = Buffer(KernelSweep.operands(u * g, seed: 2))
            let bias = Buffer(KernelSweep.operands(biasCount, seed: 3)), h0 = Buffer(KernelSweep.operands(bu, seed: 4))
            func pair(
                _ forward: @escaping (Int32, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void,
                _ backward: @escaping (Int32, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
            ) -> (Forward, Backward) {
                ({ x, saved, o in
                    forward(n, s, f, un, after, goBack, x.pointer, w.pointer, r.pointer, bias.pointer, h0.pointer, saved.pointer, o[0].pointer, o[1].pointer)
                }, { saved, up, scratch, d in
                    backward(n, s, f, un, after, goBack, w.pointer, r.pointer, saved.pointer, up[0].pointer, up[1].pointer, scratch.pointer, d[0].pointer, d[1].pointer, d[2].pointer, d[3].pointer, d[4].pointer)
                })
            }
            Self.compare(
                "gru\(resetAfter ? "" : " reset_before") \(b)x\(t)x\(i)→\(u)\(back ? " backwards" : "")",
                outputSizes: [b * t * u, bu], gradSizes: [b * t * i, i * g, u * g, biasCount, bu],
                xCount: b * t * i, savedCount: Int(ck_gru_saved_size(n, s, f, un, after)),
                scratchCount: Int(ck_gru_backward_scratch_size(n, s, f, un)),
                tuned: pair(ck_gru_forward, ck_gru_backward),
                reference: pair(ck_gru_forward_reference, ck_gru_backward_reference))
        }
    }

    @Test(arguments: [CK_ACT_TANH, CK_ACT_SIGMOID, CK_ACT_RELU, CK_ACT_IDENTITY])
    func simpleRNNAgainstReference(act: ck_activation) {
        for (b, t, i, u, back) in Self.shapes {
            let bu = b * u, goBack: Int32 = back ? 1 : 0
            let (n, s, f, un) = (Int32(b), Int32(t), Int32(i), Int32(u))
            let w = Buffer(KernelSweep.operands(i * u, seed: 1)), r = Buffer(KernelSweep.operands(u * u, seed: 2))
            let bias = Buffer(KernelSweep.operands(u, seed: 3)), h0 = Buffer(KernelSweep.operands(bu, seed: 4))
            func pair(
                _ forward: @escaping (Int32, Int32, Int32, Int32, ck_activation, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void,
                _ backward: @escaping (Int32, Int32, Int32, Int32, ck_activation, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
            ) -> (Forward, Backward) {
                ({ x, saved, o in
                    forward(n, s, f, un, act, goBack, x.pointer, w.pointer, r.pointer, bias.pointer, h0.pointer, saved.pointer, o[0].pointer, o[1].pointer)
                }, { saved, up, scratch, d in
                    backward(n, s, f, un, act, goBack, w.pointer, r.pointer, saved.pointer, up[0].pointer, up[1].pointer, scratch.pointer, d[0].pointer, d[1].pointer, d[2].pointer, d[3].pointer, d[4].pointer)
                })
            }
            Self.compare(
                "simple_rnn act \(act.rawValue) \(b)x\(t)x\(i)→\(u)\(back ? " backwards" : "")",
                outputSizes: [b * t * u, bu], gradSizes: [b * t * i, i * u, u * u, u, bu],
                xCount: b * t * i, savedCount: Int(ck_simple_rnn_saved_size(n, s, f, un)),
                scratchCount: Int(ck_simple_rnn_backward_scratch_size(n, s, f, un)),
                tuned: pair(ck_simple_rnn_forward, ck_simple_rnn_backward),
                reference: pair(ck_simple_rnn_forward_reference, ck_simple_rnn_backward_reference))
        }
    }

    /// Q has orthonormal columns and R = Qᵀ·A is upper triangular with a positive diagonal:
    /// exactly the thin QR that Keras's q · sign(diag(r)) picks.
    @Test(arguments: [(1, 1), (5, 5), (20, 5), (68, 17), (512, 128)])
    func qrOrthonormal(m: Int, n: Int) {
        let a = KernelSweep.operands(m * n, seed: 7)
        var q = a, work = [Float](repeating: 0, count: 2 * n)
        ck_qr_orthonormal(Int32(m), Int32(n), &q, &work)
        var worstOrtho = 0.0, worstR = 0.0, minDiagonal = Double.infinity
        for i in 0..<n {
            for j in 0..<n {
                var qq = 0.0, r = 0.0
                for k in 0..<m {
                    qq += Double(q[k * n + i]) * Double(q[k * n + j])
                    r += Double(q[k * n + i]) * Double(a[k * n + j])
                }
                worstOrtho = Swift.max(worstOrtho, abs(qq - (i == j ? 1 : 0)))
                if i > j { worstR = Swift.max(worstR, abs(r)) }
                if i == j { minDiagonal = Swift.min(minDiagonal, r) }
            }
        }
        #expect(worstOrtho < 2e-6, "QᵀQ − I: \(worstOrtho)")
        #expect(worstR < 1e-5, "below-diagonal R: \(worstR)")
        #expect(minDiagonal > 0, "diag R: \(minDiagonal)")
    }
}

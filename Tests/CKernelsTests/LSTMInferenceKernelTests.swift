import CKernels
import Testing

/// `ck_lstm_inference` (forward without saved states) against its plain reference and against
/// the training forward `ck_lstm_forward`, on odd shapes (batch 1–33, time 1–5, units 1–17,
/// inputs 0/3/5, with and without bias and initial states, both directions), every ISA path and
/// 1–3 threads. Tolerance as `RecurrentKernelTests` (float GEMM sums and the gates' rational
/// sigmoid/tanh vs double sums and libm over ≤ 5 steps: ~1e-6; a wrong index is ~1e-1).
@Suite(.serialized)
struct LSTMInferenceKernelTests {
    typealias Buffer = RecurrentKernelTests.Buffer

    /// (batch, time, inputs, units, goBackwards, withBias, withStates)
    static let shapes: [(Int, Int, Int, Int, Bool, Bool, Bool)] = [
        (1, 1, 3, 1, false, true, true), (3, 5, 3, 5, true, true, true), (3, 5, 3, 17, false, false, true),
        (1, 5, 5, 17, true, true, false), (3, 1, 3, 5, true, false, false), (3, 5, 0, 3, false, true, true),
        // enough rows that the batch is split over 2 and 3 threads (4 rows a thread at least)
        (17, 5, 3, 5, true, true, true), (33, 3, 5, 17, false, true, false), (33, 4, 3, 16, true, true, true),
        // 4·units = 256: [W ; U] stacked at a padded leading dimension (rnn_step_ld)
        (9, 3, 3, 64, false, true, true),
    ]

    @Test func inferenceAgainstReferenceAndTrainingForward() {
        for (b, t, i, u, back, withBias, withStates) in Self.shapes {
            let g = 4 * u, bu = b * u, goBack: Int32 = back ? 1 : 0
            let (n, s, f, un) = (Int32(b), Int32(t), Int32(i), Int32(u))
            let x = Buffer(KernelSweep.operands(b * t * i, seed: 11))
            let w = Buffer(KernelSweep.operands(i * g, seed: 1)), r = Buffer(KernelSweep.operands(u * g, seed: 2))
            let bias = Buffer(KernelSweep.operands(g, seed: 3)), h0 = Buffer(KernelSweep.operands(bu, seed: 4))
            let c0 = Buffer(KernelSweep.operands(bu, seed: 5))
            let biasPointer = withBias ? bias.pointer : nil
            let h0Pointer = withStates ? h0.pointer : nil, c0Pointer = withStates ? c0.pointer : nil
            let name = "lstm inference \(b)x\(t)x\(i)→\(u)\(back ? " backwards" : "")"
            let scratchCount = Int(ck_lstm_inference_scratch_size(n, s, f, un))
            func outputs() -> [Buffer] { [Buffer(b * t * u, fill: .nan), Buffer(bu, fill: .nan), Buffer(bu, fill: .nan)] }

            let want = outputs(), referenceScratch = Buffer(scratchCount, fill: .nan)
            ck_lstm_inference_reference(
                n, s, f, un, goBack, x.pointer, w.pointer, r.pointer, biasPointer, h0Pointer, c0Pointer,
                referenceScratch.pointer, want[0].pointer, want[1].pointer, want[2].pointer)
            // the training forward agrees with the same reference: both compute Keras's step
            let trained = outputs(), saved = Buffer(Int(ck_lstm_saved_size(n, s, f, un)), fill: .nan)
            ck_lstm_forward(
                n, s, f, un, goBack, x.pointer, w.pointer, r.pointer, biasPointer, h0Pointer, c0Pointer,
                saved.pointer, trained[0].pointer, trained[1].pointer, trained[2].pointer)
            for (index, (got, expected)) in zip(trained, want).enumerated() {
                RecurrentKernelTests.expectClose(got.values, expected.values, "\(name) training forward output \(index)")
            }
            KernelSweep.forEachConfiguration { isa, threads in
                let got = outputs(), scratch = Buffer(scratchCount, fill: .nan)
                ck_lstm_inference(
                    n, s, f, un, goBack, x.pointer, w.pointer, r.pointer, biasPointer, h0Pointer, c0Pointer,
                    scratch.pointer, got[0].pointer, got[1].pointer, got[2].pointer)
                for (index, (g, e)) in zip(got, want).enumerated() {
                    RecurrentKernelTests.expectClose(
                        g.values, e.values, "\(name) \(String(cString: ck_isa_name(isa))) \(threads)t output \(index)")
                }
                // every output is optional: h_last alone equals the h_last above
                let alone = Buffer(bu, fill: .nan)
                ck_lstm_inference(
                    n, s, f, un, goBack, x.pointer, w.pointer, r.pointer, biasPointer, h0Pointer, c0Pointer,
                    scratch.pointer, nil, alone.pointer, nil)
                #expect(alone.values == got[1].values, "\(name) h_last alone")
            }
        }
    }
}

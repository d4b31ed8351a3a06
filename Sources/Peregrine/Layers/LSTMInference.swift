import CKernels

extension LSTM {
    /// Whether a call can take the inference kernel: nothing will ask for gradients (no tape is
    /// recording) and the call is not training (so no training-only behaviour such as dropout).
    ///
    /// ```swift
    /// LSTM.runsInference(training: false)   // true outside any GradientTape.recording block
    /// ```
    static func runsInference(training: Bool) -> Bool {
        !training && GradientTape.recordingTapes.isEmpty
    }

    /// The whole sequence forward without the states backward would need (`ck_lstm_inference`:
    /// one `[x_t | h]·[W ; U] + b` GEMM and one fused gate pass per step, no per-step state
    /// saved, h and c updated in place); the result is packed as `layout` says, like the training
    /// path's, and is not recorded. `initialH` / `initialC` `[batch, units]` default to zeros.
    ///
    /// ```swift
    /// let packed = try lstm.inferenceSequence(x, w, u, b, layout: layout)
    /// ```
    func inferenceSequence(
        _ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, initialH: Tensor? = nil,
        initialC: Tensor? = nil, layout: RecurrentOutputLayout
    ) throws -> Tensor {
        let n = Int32(layout.batch), t = Int32(layout.steps), f = Int32(w.shape[0]), un = Int32(units)
        let scratch = Tensor(uninitializedShape: [Int(ck_lstm_inference_scratch_size(n, t, f, un))])
        let packed = Tensor(uninitializedShape: layout.packedShape)
        let (ySeq, hLast, cLast) = layout.parts(packed.pointer)
        ck_lstm_inference(
            n, t, f, un, goBackwards ? 1 : 0, x.pointer, w.pointer, u.pointer, b?.pointer,
            initialH?.pointer, initialC?.pointer, scratch.pointer, ySeq, hLast, cLast)
        return packed
    }
}

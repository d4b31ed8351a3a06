/// Which inputs of a recorded operation the tape wants a gradient for.
///
/// An input needs one when the tape tracks it: a variable, a watched tensor, or the result of
/// another recorded operation. The data a model is fed is none of these, so the first Dense or
/// Conv2D of a model can skip its input gradient — for an MLP on 784 features that is a third of
/// the backward pass's arithmetic (PyTorch and TensorFlow skip it the same way).
///
/// ```swift
/// y.recorded("dense", inputs: [x, w]) { g, needed in
///     [needed.contains(0) ? g.matmul(wᵀ) : nil, xᵀ.matmul(g)]
/// }
/// ```
struct NeededGradients: Sendable {
    /// Bit i set: input i needs a gradient. Inputs past the 64th are always computed.
    let bits: UInt64

    /// Every input: what a backward pass receives when nobody says otherwise.
    static let all = NeededGradients(bits: ~0)

    /// Whether input `index` (in the order given to `recorded`) needs a gradient.
    ///
    /// ```swift
    /// if needed.contains(0) { /* compute dx */ }
    /// ```
    func contains(_ index: Int) -> Bool {
        index >= 64 || bits & (1 << UInt64(index)) != 0
    }
}

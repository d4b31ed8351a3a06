/// How far a computed tensor is from Keras's, judged as `FORMAT.md` says:
/// `|got − want| ≤ atol + rtol·|want|` for every element.
///
/// ```swift
/// let m = Mismatch.compare(got: [1, 2], shape: [2], want: ReferenceTensor(shape: [2], values: [1, 2.5]),
///                          rtol: 1e-4, atol: 1e-5, what: "outputs[0]")
/// m?.description   // "outputs[0]: max abs err 0.5 at [1] (got 2.0, want 2.5)"
/// ```
public struct Mismatch: Sendable, CustomStringConvertible {
    /// Which tensor, e.g. `grad_inputs[1]`.
    public var what: String
    /// The largest absolute error seen, or nil for a shape mismatch.
    public var maxAbsError: Float?
    /// Where the largest error is, and the two values there.
    public var detail: String

    public var description: String {
        if let maxAbsError { return "\(what): max abs err \(maxAbsError) \(detail)" }
        return "\(what): \(detail)"
    }

    /// nil when every element is within tolerance and the shapes agree; otherwise the worst
    /// element (or the shape disagreement).
    public static func compare(
        got: [Float], shape: [Int], want: ReferenceTensor, rtol: Double, atol: Double, what: String
    ) -> Mismatch? {
        guard shape == want.shape, got.count == want.values.count else {
            return Mismatch(
                what: what, maxAbsError: nil, detail: "shape \(shape), want \(want.shape)")
        }
        var worst: (index: Int, error: Float, excess: Double)? = nil
        for (index, (g, w)) in zip(got, want.values).enumerated() {
            let error = abs(g - w)
            let allowed = atol + rtol * Double(abs(w))
            let excess = g.isNaN != w.isNaN ? .infinity : Double(error) - allowed
            if excess > 0 || (error.isNaN && !w.isNaN) {
                if worst == nil || excess > worst!.excess {
                    worst = (index, error, excess)
                }
            }
        }
        guard let worst else { return nil }
        return Mismatch(
            what: what, maxAbsError: worst.error,
            detail: "at \(multiIndex(worst.index, shape: shape)) "
                + "(got \(got[worst.index]), want \(want.values[worst.index]))")
    }

    static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
}

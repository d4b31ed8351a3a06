/// How a convolution or pooling window treats the border: Keras's `padding="valid"` or `"same"`.
///
/// ```swift
/// let conv = Conv2D(filters: 32, kernelSize: (3, 3), padding: .same)
/// Padding.same.outputLength(input: 5, window: 2, stride: 2)   // (3, before: 0, after: 1)
/// ```
public enum Padding: String, Sendable, Hashable, CustomStringConvertible {
    /// No padding: only windows that fit entirely inside the input.
    case valid
    /// Zero (or −∞, for max pooling) padding so that `out = ceil(in / stride)`; the odd cell goes
    /// at the end (bottom/right), as TensorFlow does.
    case same

    /// Keras's name.
    public var description: String { rawValue }

    /// The padding named by a Keras config string (`"valid"`, `"same"`); other names throw.
    ///
    /// ```swift
    /// try Padding(named: "same")   // .same
    /// ```
    public init(named name: String) throws {
        guard let padding = Padding(rawValue: name.lowercased()) else {
            throw PeregrineError.invalidArgument(
                operation: "padding", expected: "'valid' or 'same'", actual: "'\(name)'")
        }
        self = padding
    }

    /// The output length along one axis and the padding before and after, for a window of
    /// `window` cells (the effective size, d·(k−1)+1, for a dilated kernel) moving by `stride`.
    /// `valid` gives `floor((in − window) / stride) + 1` (≤ 0 when the window does not fit);
    /// `same` gives `ceil(in / stride)` with `total = max((out−1)·stride + window − in, 0)`,
    /// `before = total / 2` and the rest after.
    ///
    /// ```swift
    /// Padding.same.outputLength(input: 4, window: 3, stride: 2)   // (2, before: 0, after: 1)
    /// ```
    public func outputLength(input: Int, window: Int, stride: Int) -> (length: Int, before: Int, after: Int) {
        switch self {
        case .valid:
            let length = input >= window ? (input - window) / stride + 1 : 0
            return (length, 0, 0)
        case .same:
            let length = (input + stride - 1) / stride
            let total = Swift.max((length - 1) * stride + window - input, 0)
            return (length, total / 2, total - total / 2)
        }
    }
}

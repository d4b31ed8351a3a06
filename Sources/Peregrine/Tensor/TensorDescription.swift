/// NumPy-like printing: the shape, then nested brackets; large tensors show the first and last
/// three entries of each axis around `...`.
///
/// ```swift
/// let x: Tensor = [[1, 2, 3], [4, 5, 6]]
/// print(x)   // Tensor([2, 3]) [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
/// ```
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// The shape and the (possibly elided) elements.
    ///
    /// ```swift
    /// Tensor(2.5).description   // "Tensor([]) 2.5"
    /// ```
    public var description: String {
        "Tensor(\(shape)) " + withUnsafeBufferPointer {
            formatNested(shape: shape, scalars: $0) { $0.description }
        }
    }

    /// The same as ``description``.
    ///
    /// ```swift
    /// debugPrint(x)
    /// ```
    public var debugDescription: String { description }
}

/// Above this many elements every axis is elided to its first and last `edgeItems` entries
/// (NumPy's `threshold` and `edgeitems`).
let summaryThreshold = 1000
let edgeItems = 3

/// Formats row-major `scalars` of `shape` as nested brackets (a loop over elements, allowed
/// here: printing is not a kernel).
func formatNested<Scalar>(
    shape: [Int], scalars: UnsafeBufferPointer<Scalar>, format: (Scalar) -> String
) -> String {
    guard !shape.isEmpty else { return scalars.first.map(format) ?? "" }
    let summarize = scalars.count > summaryThreshold
    let strides = Shape.contiguousStrides(shape)
    func level(_ axis: Int, _ offset: Int) -> String {
        let n = shape[axis]
        var indices = Array(0..<n)
        var elided = false
        if summarize && n > 2 * edgeItems {
            indices = Array(0..<edgeItems) + Array((n - edgeItems)..<n)
            elided = true
        }
        var parts = indices.map { i in
            axis == shape.count - 1 ? format(scalars[offset + i]) : level(axis + 1, offset + i * strides[axis])
        }
        if elided { parts.insert("...", at: edgeItems) }
        return "[" + parts.joined(separator: ", ") + "]"
    }
    return level(0, 0)
}

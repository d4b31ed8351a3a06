/// Joins its inputs along `axis` (counted with the batch axis; −1 is the last): Keras's
/// `Concatenate` layer. Every other dimension must agree.
///
/// ```swift
/// let merged = try Concatenate()([a, b])   // [batch, 2] and [batch, 3] → [batch, 5]
/// ```
public final class Concatenate: Layer, @unchecked Sendable {
    /// The axis joined, with the batch axis counted (Keras's convention).
    public let axis: Int

    /// A `Concatenate` layer along `axis`.
    ///
    /// ```swift
    /// let layer = Concatenate(axis: 1)
    /// ```
    public init(axis: Int = -1, name: String? = nil) {
        self.axis = axis
        super.init(name: name)
    }

    /// The per-sample axis `axis` denotes for per-sample shapes of rank `rank`.
    private func sampleAxis(rank: Int) throws -> Int {
        let full = try Shape.normalize(axis: axis, rank: rank + 1, operation: name)
        guard full > 0 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "an axis other than the batch axis", actual: "\(axis)")
        }
        return full - 1
    }

    override public func build(inputShapes: [[Int]]) throws {
        _ = try outputShapes(forInputShapes: inputShapes)
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        guard let first = shapes.first else {
            throw PeregrineError.invalidArgument(operation: name, expected: "at least one input", actual: "none")
        }
        let a = try sampleAxis(rank: first.count)
        var result = first
        for shape in shapes.dropFirst() {
            guard shape.count == first.count,
                  shape.indices.allSatisfy({ $0 == a || shape[$0] == first[$0] })
            else {
                throw PeregrineError.invalidArgument(
                    operation: name, expected: "per-sample shapes equal except on axis \(axis)",
                    actual: "\(shapes)")
            }
            result[a] += shape[a]
        }
        return [result]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        _ = try outputShapes(forInputShapes: inputs.map { Array($0.shape.dropFirst()) })
        return [try Tensor.concatenate(inputs, axis: axis)]
    }
}

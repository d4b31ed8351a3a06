/// Adds its inputs element-wise, left to right, broadcasting size-1 dimensions: Keras's `Add`.
///
/// ```swift
/// let sum = try Add()([a, b, c])   // ((a + b) + c)
/// ```
public final class Add: Layer, @unchecked Sendable {
    /// An `Add` layer.
    public override init(name: String? = nil) {
        super.init(name: name)
    }

    override public func build(inputShapes: [[Int]]) throws {
        _ = try outputShapes(forInputShapes: inputShapes)
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        guard var result = shapes.first else {
            throw PeregrineError.invalidArgument(operation: name, expected: "at least one input", actual: "none")
        }
        for shape in shapes.dropFirst() {
            result = try Shape.broadcast(result, shape, operation: name)
        }
        return [result]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        _ = try outputShapes(forInputShapes: inputs.map { Array($0.shape.dropFirst()) })
        var sum = inputs[0]
        for x in inputs.dropFirst() { sum = try sum + x }
        return [sum]
    }
}

/// Flattens each sample to one axis: `[batch, d1, d2, …]` → `[batch, d1·d2·…]` (Keras's
/// `Flatten`; channels-last needs no transpose). A view of the same storage, no copy.
///
/// ```swift
/// let y = try Flatten()(try Tensor.zeros([32, 7, 7, 64]))   // [32, 3136]
/// ```
public final class Flatten: Layer, @unchecked Sendable {
    /// A `Flatten` layer.
    public override init(name: String? = nil) {
        super.init(name: name)
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        [[shapes[0].reduce(1, *)]]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        guard inputs.count == 1, let x = inputs.first, x.rank >= 1 else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "one input with a batch axis", actual: "\(inputs.map(\.shape))")
        }
        return [try x.reshaped(to: [x.shape[0], x.shape.dropFirst().reduce(1, *)])]
    }
}

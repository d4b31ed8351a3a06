/// Applies an activation function: Keras's `Activation` layer (auto-named `activation`).
/// Softmax and sigmoid outputs keep their logits for the losses, as in Keras.
///
/// ```swift
/// let layer = try Activation("gelu")
/// let y = try layer(try Tensor.ones([2, 3]))
/// ```
public final class Activation: Layer, @unchecked Sendable {
    /// The function applied.
    public let activation: ActivationFunction

    /// An `Activation` layer applying `activation`.
    ///
    /// ```swift
    /// let layer = Activation(.leakyRelu(negativeSlope: 0.1))
    /// ```
    public init(_ activation: ActivationFunction, name: String? = nil) {
        self.activation = activation
        super.init(name: name)
    }

    /// An `Activation` layer from Keras's name of the function; unknown names throw.
    ///
    /// ```swift
    /// let layer = try Activation("softmax")
    /// ```
    public convenience init(_ activationName: String, name: String? = nil) throws {
        self.init(try ActivationFunction(named: activationName), name: name)
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        [try activation.outputShape(shapes[0])]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        guard inputs.count == 1 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "one input", actual: "\(inputs.count)")
        }
        return [try activation(inputs[0])]
    }
}

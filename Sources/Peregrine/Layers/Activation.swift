import CKernels

/// An activation function, by Keras's name: `Dense(units: 10, activation: .softmax)` or
/// `try Activation("relu")`.
///
/// ```swift
/// let y = try ActivationFunction.relu(x)
/// let gelu = try ActivationFunction(named: "gelu")   // exact erf form, as Keras's string
/// ```
public enum ActivationFunction: Sendable, Hashable, CustomStringConvertible {
    /// Identity (`None` or `"linear"`).
    case linear
    /// max(x, 0).
    case relu
    /// 1 / (1 + e^−x).
    case sigmoid
    /// tanh(x).
    case tanh
    /// Softmax over the last axis.
    case softmax

    /// The activation Keras's `activation=` string names; unknown names throw.
    ///
    /// ```swift
    /// try ActivationFunction(named: "tanh")   // .tanh
    /// ```
    public init(named name: String) throws {
        switch name {
        case "linear", "None", "": self = .linear
        case "relu": self = .relu
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "softmax": self = .softmax
        default:
            throw PeregrineError.invalidArgument(
                operation: "activation", expected: "a Keras activation name (linear, relu, sigmoid, tanh, softmax, …)",
                actual: "'\(name)'")
        }
    }

    /// Keras's name.
    public var description: String {
        switch self {
        case .linear: "linear"
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softmax: "softmax"
        }
    }

    /// The activation a GEMM can apply in its store, when there is one (layers then need no
    /// second pass over their output).
    var fusedKernel: ck_activation? {
        switch self {
        case .linear: CK_ACT_IDENTITY
        case .relu: CK_ACT_RELU
        case .sigmoid: CK_ACT_SIGMOID
        case .tanh: CK_ACT_TANH
        default: nil
        }
    }

    /// Applies the function (differentiably).
    ///
    /// ```swift
    /// let y = try ActivationFunction.softmax(logits)
    /// ```
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .linear: x
        case .relu: applyRelu(x)
        case .sigmoid: applySigmoid(x)
        case .tanh: applyTanh(x)
        case .softmax: try applySoftmax(x, -1)
        }
    }
}

// The free functions, named so that the enum's cases of the same names do not shadow them.
private let applyRelu: @Sendable (Tensor) -> Tensor = relu
private let applySigmoid: @Sendable (Tensor) -> Tensor = sigmoid
private let applyTanh: @Sendable (Tensor) -> Tensor = tanh
private let applySoftmax: @Sendable (Tensor, Int) throws -> Tensor = softmax

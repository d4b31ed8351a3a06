import CKernels

/// An activation function, by Keras's name: `Dense(units: 10, activation: .softmax)` or
/// `try Activation("relu")`. Cases with Keras parameters carry them, with Keras's defaults
/// (`.leakyRelu()` is the `"leaky_relu"` string's slope 0.2, `.elu()` has α = 1).
///
/// ```swift
/// let y = try ActivationFunction.relu(x)
/// let gelu = try ActivationFunction(named: "gelu")   // exact erf form, as Keras's string
/// let approx = ActivationFunction.gelu(approximate: true)
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
    /// Log-softmax over the last axis.
    case logSoftmax
    /// x·Φ(x): the exact (x/2)(1 + erf(x/√2)), or with `approximate` the tanh form.
    case gelu(approximate: Bool = false)
    /// x > 0 ? x : α(eˣ − 1).
    case elu(alpha: Float = 1)
    /// x > 0 ? x : slope·x (the string's slope is 0.2; the `LeakyReLU` layer's is 0.3).
    case leakyRelu(negativeSlope: Float = 0.2)
    /// x·σ(x), also named `silu`.
    case swish
    /// log(1 + eˣ), computed stably.
    case softplus
    /// x / (1 + |x|).
    case softsign
    /// Scaled elu with Keras's fixed λ ≈ 1.0507 and α ≈ 1.6733.
    case selu
    /// min(max(x, 0), 6).
    case relu6
    /// relu6(x + 3) / 6.
    case hardSigmoid
    /// x·hardSigmoid(x), also named `hard_swish`.
    case hardSilu
    /// eˣ.
    case exponential
    /// x·tanh(softplus(x)).
    case mish
    /// max(x, 0) + α·expm1(min(x, 0)/α), α = 1 by default (the gradient at 0 is 2, as TF's).
    case celu(alpha: Float = 1)
    /// Gated linear unit a·σ(b), `[a | b]` the halves of the last axis (which must be even).
    case glu
    /// clip(x, −1, 1).
    case hardTanh
    /// |x| > threshold ? x : 0 (threshold 0.5).
    case hardShrink(threshold: Float = 0.5)
    /// x > t ? x − t : x < −t ? x + t : 0 (threshold 0.5).
    case softShrink(threshold: Float = 0.5)
    /// x − tanh(x).
    case tanhShrink
    /// log σ(x) = −softplus(−x).
    case logSigmoid
    /// 0 for x ≤ −1, (x + 1)²/4 below 1, x from 1.
    case sparsePlus
    /// 0 for x ≤ −1, (x + 1)/2 below 1, 1 from 1.
    case sparseSigmoid
    /// (x + √(x² + b))/2, b = 4.
    case squareplus(b: Float = 4)
    /// Sparsemax over the last axis, with Keras 3's threshold τ (see ``sparsemax(_:)``).
    case sparsemax
    /// x > threshold ? x : defaultValue. Keras's `"threshold"` string has no defaults (calling
    /// it fails in Keras), so the name alone is rejected here.
    case threshold(threshold: Float, defaultValue: Float)

    /// The activation Keras's `activation=` string names; unknown names throw.
    ///
    /// ```swift
    /// try ActivationFunction(named: "tanh")         // .tanh
    /// try ActivationFunction(named: "leaky_relu")   // .leakyRelu(negativeSlope: 0.2)
    /// ```
    public init(named name: String) throws {
        switch name {
        case "linear", "None", "": self = .linear
        case "relu": self = .relu
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "softmax": self = .softmax
        case "log_softmax": self = .logSoftmax
        case "gelu": self = .gelu(approximate: false)
        case "elu": self = .elu(alpha: 1)
        case "leaky_relu": self = .leakyRelu(negativeSlope: 0.2)
        case "swish", "silu": self = .swish
        case "softplus": self = .softplus
        case "softsign": self = .softsign
        case "selu": self = .selu
        case "relu6": self = .relu6
        case "hard_sigmoid": self = .hardSigmoid
        case "hard_silu", "hard_swish": self = .hardSilu
        case "exponential": self = .exponential
        case "mish": self = .mish
        case "celu": self = .celu(alpha: 1)
        case "glu": self = .glu
        case "hard_tanh": self = .hardTanh
        case "hard_shrink": self = .hardShrink(threshold: 0.5)
        case "soft_shrink": self = .softShrink(threshold: 0.5)
        case "tanh_shrink": self = .tanhShrink
        case "log_sigmoid": self = .logSigmoid
        case "sparse_plus": self = .sparsePlus
        case "sparse_sigmoid": self = .sparseSigmoid
        case "squareplus": self = .squareplus(b: 4)
        case "sparsemax": self = .sparsemax
        case "threshold":
            throw PeregrineError.invalidArgument(
                operation: "activation",
                expected: "'threshold' with its two required parameters "
                    + "(ActivationFunction.threshold(threshold:defaultValue:) or "
                    + "{\"name\": \"threshold\", \"threshold\": …, \"default_value\": …})",
                actual: "'threshold' alone")
        default:
            throw PeregrineError.invalidArgument(
                operation: "activation",
                expected: "a Keras activation name (linear, relu, sigmoid, tanh, softmax, log_softmax, gelu, elu, "
                    + "leaky_relu, swish, silu, softplus, softsign, selu, relu6, hard_sigmoid, hard_silu, "
                    + "hard_swish, exponential, mish, celu, glu, hard_tanh, hard_shrink, soft_shrink, "
                    + "tanh_shrink, log_sigmoid, sparse_plus, sparse_sigmoid, squareplus, sparsemax, threshold)",
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
        case .logSoftmax: "log_softmax"
        case .gelu: "gelu"
        case .elu: "elu"
        case .leakyRelu: "leaky_relu"
        case .swish: "silu"
        case .softplus: "softplus"
        case .softsign: "softsign"
        case .selu: "selu"
        case .relu6: "relu6"
        case .hardSigmoid: "hard_sigmoid"
        case .hardSilu: "hard_silu"
        case .exponential: "exponential"
        case .mish: "mish"
        case .celu: "celu"
        case .glu: "glu"
        case .hardTanh: "hard_tanh"
        case .hardShrink: "hard_shrink"
        case .softShrink: "soft_shrink"
        case .tanhShrink: "tanh_shrink"
        case .logSigmoid: "log_sigmoid"
        case .sparsePlus: "sparse_plus"
        case .sparseSigmoid: "sparse_sigmoid"
        case .squareplus: "squareplus"
        case .sparsemax: "sparsemax"
        case .threshold: "threshold"
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

    /// The element-wise kernel of activation.c and its parameter, for the functions it owns.
    var elementwiseKernel: (function: ck_act_fn, alpha: Float)? {
        switch self {
        case let .gelu(approximate): (approximate ? CK_ACT_FN_GELU_TANH : CK_ACT_FN_GELU, 0)
        case let .elu(alpha): (CK_ACT_FN_ELU, alpha)
        case let .leakyRelu(slope): (CK_ACT_FN_LEAKY_RELU, slope)
        case .swish: (CK_ACT_FN_SWISH, 0)
        case .softplus: (CK_ACT_FN_SOFTPLUS, 0)
        case .softsign: (CK_ACT_FN_SOFTSIGN, 0)
        case .selu: (CK_ACT_FN_SELU, 0)
        case .relu6: (CK_ACT_FN_RELU6, 0)
        case .hardSigmoid: (CK_ACT_FN_HARD_SIGMOID, 0)
        case .hardSilu: (CK_ACT_FN_HARD_SILU, 0)
        case .exponential: (CK_ACT_FN_EXPONENTIAL, 0)
        case .mish: (CK_ACT_FN_MISH, 0)
        default: nil
        }
    }

    /// The element-wise kernel of activation_extra.c and its parameters, for the functions it owns.
    var elementwiseKernel2: (function: ck_act2_fn, a: Float, b: Float)? {
        switch self {
        case let .celu(alpha): (CK_ACT2_CELU, alpha, 0)
        case .hardTanh: (CK_ACT2_HARD_TANH, 0, 0)
        case let .hardShrink(threshold): (CK_ACT2_HARD_SHRINK, threshold, 0)
        case let .softShrink(threshold): (CK_ACT2_SOFT_SHRINK, threshold, 0)
        case .tanhShrink: (CK_ACT2_TANH_SHRINK, 0, 0)
        case .logSigmoid: (CK_ACT2_LOG_SIGMOID, 0, 0)
        case .sparsePlus: (CK_ACT2_SPARSE_PLUS, 0, 0)
        case .sparseSigmoid: (CK_ACT2_SPARSE_SIGMOID, 0, 0)
        case let .squareplus(b): (CK_ACT2_SQUAREPLUS, b, 0)
        case let .threshold(threshold, value): (CK_ACT2_THRESHOLD, threshold, value)
        default: nil
        }
    }

    /// The per-sample output shape for an input of `shape`: the same, except glu halves the
    /// last axis (which must be even).
    ///
    /// ```swift
    /// try ActivationFunction.glu.outputShape([5, 8])   // [5, 4]
    /// ```
    public func outputShape(_ shape: [Int]) throws -> [Int] {
        guard self == .glu else { return shape }
        guard let last = shape.last, last % 2 == 0 else {
            throw PeregrineError.invalidArgument(
                operation: "glu", expected: "an even last axis to split in half", actual: "shape \(shape)")
        }
        return shape.dropLast() + [last / 2]
    }

    /// Applies the function (differentiably, one recorded operation).
    ///
    /// ```swift
    /// let y = try ActivationFunction.softmax(logits)
    /// ```
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        if let (function, alpha) = elementwiseKernel {
            return x.elementwiseActivation(function, alpha: alpha, name: description)
        }
        if let (function, a, b) = elementwiseKernel2 {
            return x.elementwiseActivation2(function, a, b, name: description)
        }
        switch self {
        case .linear: return x
        case .relu: return applyRelu(x)
        case .sigmoid: return applySigmoid(x)
        case .tanh: return applyTanh(x)
        case .softmax: return try applySoftmax(x, -1)
        case .logSoftmax: return try applyLogSoftmax(x, -1)
        case .glu: return try applyGlu(x)
        case .sparsemax: return try applySparsemax(x)
        default: return x  // unreachable: every other case has an element-wise kernel
        }
    }
}

// The free functions, named so that the enum's cases of the same names do not shadow them.
private let applyRelu: @Sendable (Tensor) -> Tensor = relu
private let applySigmoid: @Sendable (Tensor) -> Tensor = sigmoid
private let applyTanh: @Sendable (Tensor) -> Tensor = tanh
private let applySoftmax: @Sendable (Tensor, Int) throws -> Tensor = softmax
private let applyLogSoftmax: @Sendable (Tensor, Int) throws -> Tensor = logSoftmax
private let applyGlu: @Sendable (Tensor) throws -> Tensor = glu
private let applySparsemax: @Sendable (Tensor) throws -> Tensor = sparsemax

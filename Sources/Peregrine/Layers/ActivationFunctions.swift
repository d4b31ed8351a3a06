import CKernels

// The activations of activation.c as free functions, each one C pass forward and one backward
// (TF's gradient formulas), recorded as a single tape node.

extension Tensor {
    /// y = f(x) by `ck_activation_forward`, recorded with `ck_activation_backward` as its
    /// vector–Jacobian product.
    func elementwiseActivation(_ function: ck_act_fn, alpha: Float, name: String) -> Tensor {
        let y = Tensor(uninitializedShape: shape)
        ck_activation_forward(function, alpha, Int64(scalarCount), pointer, y.pointer)
        return y.recorded(name, inputs: [self]) { [self] g in
            let dx = Tensor(uninitializedShape: shape)
            ck_activation_backward(
                function, alpha, Int64(scalarCount), pointer, y.pointer, g.pointer, dx.pointer)
            return [dx]
        }
    }
}

/// The Gaussian error linear unit x·Φ(x): by default Keras's exact
/// (x/2)(1 + erf(x/√2)) (what the `"gelu"` string means); with `approximate: true` the tanh
/// form (x/2)(1 + tanh(√(2/π)(x + 0.044715x³))).
///
/// ```swift
/// gelu(Tensor([-1, 0, 1])).scalars                      // [-0.158655, 0, 0.841345]
/// gelu(Tensor([-1]), approximate: true).scalars         // [-0.158808]
/// ```
public func gelu(_ x: Tensor, approximate: Bool = false) -> Tensor {
    x.elementwiseActivation(approximate ? CK_ACT_FN_GELU_TANH : CK_ACT_FN_GELU, alpha: 0, name: "gelu")
}

/// The exponential linear unit: x > 0 ? x : α(eˣ − 1). The gradient at 0 is 1 (α in general).
///
/// ```swift
/// elu(Tensor([-1, 2])).scalars   // [-0.632121, 2]
/// ```
public func elu(_ x: Tensor, alpha: Float = 1) -> Tensor {
    x.elementwiseActivation(CK_ACT_FN_ELU, alpha: alpha, name: "elu")
}

/// x > 0 ? x : slope·x, with the `"leaky_relu"` string's default slope 0.2.
///
/// ```swift
/// leakyRelu(Tensor([-1, 2])).scalars   // [-0.2, 2]
/// ```
public func leakyRelu(_ x: Tensor, negativeSlope: Float = 0.2) -> Tensor {
    x.elementwiseActivation(CK_ACT_FN_LEAKY_RELU, alpha: negativeSlope, name: "leaky_relu")
}

/// x·σ(x) (Keras's `swish`, the same function as ``silu(_:)``).
///
/// ```swift
/// swish(Tensor([1])).scalars   // [0.731059]
/// ```
public func swish(_ x: Tensor) -> Tensor { x.elementwiseActivation(CK_ACT_FN_SWISH, alpha: 0, name: "silu") }

/// x·σ(x) (Keras's `silu`, the same function as ``swish(_:)``).
///
/// ```swift
/// silu(Tensor([1])).scalars   // [0.731059]
/// ```
public func silu(_ x: Tensor) -> Tensor { swish(x) }

/// log(1 + eˣ), as max(x, 0) + log1p(e^−|x|): no overflow for large x, full precision for
/// very negative x.
///
/// ```swift
/// softplus(Tensor([0])).scalars   // [0.693147]
/// ```
public func softplus(_ x: Tensor) -> Tensor {
    x.elementwiseActivation(CK_ACT_FN_SOFTPLUS, alpha: 0, name: "softplus")
}

/// x / (1 + |x|).
///
/// ```swift
/// softsign(Tensor([1, -3])).scalars   // [0.5, -0.75]
/// ```
public func softsign(_ x: Tensor) -> Tensor {
    x.elementwiseActivation(CK_ACT_FN_SOFTSIGN, alpha: 0, name: "softsign")
}

/// The scaled exponential linear unit λ·(x > 0 ? x : α(eˣ − 1)), λ ≈ 1.0507, α ≈ 1.6733.
///
/// ```swift
/// selu(Tensor([1])).scalars   // [1.050701]
/// ```
public func selu(_ x: Tensor) -> Tensor { x.elementwiseActivation(CK_ACT_FN_SELU, alpha: 0, name: "selu") }

/// min(max(x, 0), 6).
///
/// ```swift
/// relu6(Tensor([-1, 3, 9])).scalars   // [0, 3, 6]
/// ```
public func relu6(_ x: Tensor) -> Tensor { x.elementwiseActivation(CK_ACT_FN_RELU6, alpha: 0, name: "relu6") }

/// relu6(x + 3) / 6: 0 below −3, 1 above 3, linear between.
///
/// ```swift
/// hardSigmoid(Tensor([-4, 0, 4])).scalars   // [0, 0.5, 1]
/// ```
public func hardSigmoid(_ x: Tensor) -> Tensor {
    x.elementwiseActivation(CK_ACT_FN_HARD_SIGMOID, alpha: 0, name: "hard_sigmoid")
}

/// x·hardSigmoid(x) (Keras's `hard_silu`, also named `hard_swish`).
///
/// ```swift
/// hardSilu(Tensor([1])).scalars   // [0.666667]
/// ```
public func hardSilu(_ x: Tensor) -> Tensor {
    x.elementwiseActivation(CK_ACT_FN_HARD_SILU, alpha: 0, name: "hard_silu")
}

/// x·hardSigmoid(x), the same function as ``hardSilu(_:)``.
///
/// ```swift
/// hardSwish(Tensor([1])).scalars   // [0.666667]
/// ```
public func hardSwish(_ x: Tensor) -> Tensor { hardSilu(x) }

/// eˣ as an activation (Keras's `exponential`; its gradient is the output).
///
/// ```swift
/// exponential(Tensor([0, 1])).scalars   // [1, 2.718282]
/// ```
public func exponential(_ x: Tensor) -> Tensor {
    x.elementwiseActivation(CK_ACT_FN_EXPONENTIAL, alpha: 0, name: "exponential")
}

/// x·tanh(softplus(x)).
///
/// ```swift
/// mish(Tensor([1])).scalars   // [0.865098]
/// ```
public func mish(_ x: Tensor) -> Tensor { x.elementwiseActivation(CK_ACT_FN_MISH, alpha: 0, name: "mish") }

/// The error function, element-wise (vectorised, within 2 ulp of the correctly rounded value).
/// Not differentiable on the tape (it is the building block of ``gelu(_:approximate:)``).
///
/// ```swift
/// erf(Tensor([0.5])).scalars   // [0.520500]
/// ```
public func erf(_ x: Tensor) -> Tensor {
    let y = Tensor(uninitializedShape: x.shape)
    ck_erf(Int64(x.scalarCount), x.pointer, y.pointer)
    return y
}

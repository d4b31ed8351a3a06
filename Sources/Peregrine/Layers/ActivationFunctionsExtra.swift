import CKernels

// Keras 3's remaining activations (activation_extra.c) as free functions, each one C pass
// forward and one backward (TF's gradients of Keras's expressions), recorded as a single node.

extension Tensor {
    /// y = f(x; a, b) by `ck_activation2_forward`, recorded with `ck_activation2_backward`.
    func elementwiseActivation2(_ function: ck_act2_fn, _ a: Float, _ b: Float, name: String) -> Tensor {
        let y = Tensor(uninitializedShape: shape)
        ck_activation2_forward(function, a, b, Int64(scalarCount), pointer, y.pointer)
        return y.recorded(name, inputs: [self]) { [self] g in
            let dx = Tensor(uninitializedShape: shape)
            ck_activation2_backward(function, a, b, Int64(scalarCount), pointer, g.pointer, dx.pointer)
            return [dx]
        }
    }
}

/// The continuously differentiable elu: max(x, 0) + α·expm1(min(x, 0)/α). Its gradient at 0
/// is 2, as TensorFlow's (both branches pass the gradient at the tie).
///
/// ```swift
/// celu(Tensor([-1, 2])).scalars   // [-0.632121, 2]
/// ```
public func celu(_ x: Tensor, alpha: Float = 1) -> Tensor {
    x.elementwiseActivation2(CK_ACT2_CELU, alpha, 0, name: "celu")
}

/// clip(x, −1, 1); the gradient is 1 on [−1, 1] (ends included).
///
/// ```swift
/// hardTanh(Tensor([-2, 0.5, 3])).scalars   // [-1, 0.5, 1]
/// ```
public func hardTanh(_ x: Tensor) -> Tensor { x.elementwiseActivation2(CK_ACT2_HARD_TANH, 0, 0, name: "hard_tanh") }

/// |x| > threshold ? x : 0.
///
/// ```swift
/// hardShrink(Tensor([-1, 0.25, 0.75])).scalars   // [-1, 0, 0.75]
/// ```
public func hardShrink(_ x: Tensor, threshold: Float = 0.5) -> Tensor {
    x.elementwiseActivation2(CK_ACT2_HARD_SHRINK, threshold, 0, name: "hard_shrink")
}

/// x > t ? x − t : x < −t ? x + t : 0.
///
/// ```swift
/// softShrink(Tensor([-1, 0.25, 0.75])).scalars   // [-0.5, 0, 0.25]
/// ```
public func softShrink(_ x: Tensor, threshold: Float = 0.5) -> Tensor {
    x.elementwiseActivation2(CK_ACT2_SOFT_SHRINK, threshold, 0, name: "soft_shrink")
}

/// x − tanh(x).
///
/// ```swift
/// tanhShrink(Tensor([1])).scalars   // [0.238406]
/// ```
public func tanhShrink(_ x: Tensor) -> Tensor { x.elementwiseActivation2(CK_ACT2_TANH_SHRINK, 0, 0, name: "tanh_shrink") }

/// log σ(x) = −softplus(−x), stable for large |x|.
///
/// ```swift
/// logSigmoid(Tensor([0])).scalars   // [-0.693147]
/// ```
public func logSigmoid(_ x: Tensor) -> Tensor { x.elementwiseActivation2(CK_ACT2_LOG_SIGMOID, 0, 0, name: "log_sigmoid") }

/// 0 for x ≤ −1, (x + 1)²/4 for −1 < x < 1, x from 1.
///
/// ```swift
/// sparsePlus(Tensor([-2, 0, 2])).scalars   // [0, 0.25, 2]
/// ```
public func sparsePlus(_ x: Tensor) -> Tensor { x.elementwiseActivation2(CK_ACT2_SPARSE_PLUS, 0, 0, name: "sparse_plus") }

/// 0 for x ≤ −1, (x + 1)/2 for −1 < x < 1, 1 from 1.
///
/// ```swift
/// sparseSigmoid(Tensor([-2, 0, 2])).scalars   // [0, 0.5, 1]
/// ```
public func sparseSigmoid(_ x: Tensor) -> Tensor {
    x.elementwiseActivation2(CK_ACT2_SPARSE_SIGMOID, 0, 0, name: "sparse_sigmoid")
}

/// (x + √(x² + b))/2, b = 4 by default.
///
/// ```swift
/// squareplus(Tensor([0])).scalars   // [1]
/// ```
public func squareplus(_ x: Tensor, b: Float = 4) -> Tensor {
    x.elementwiseActivation2(CK_ACT2_SQUAREPLUS, b, 0, name: "squareplus")
}

/// x > threshold ? x : defaultValue (Keras's `threshold`, whose parameters have no defaults).
///
/// ```swift
/// threshold(Tensor([-1, 2]), threshold: 0, defaultValue: -5).scalars   // [-5, 2]
/// ```
public func threshold(_ x: Tensor, threshold: Float, defaultValue: Float) -> Tensor {
    x.elementwiseActivation2(CK_ACT2_THRESHOLD, threshold, defaultValue, name: "threshold")
}

/// The gated linear unit over the last axis: with `[a | b]` its two halves, a·σ(b). The last
/// axis must be even; the result's is half of it.
///
/// ```swift
/// try glu(Tensor([[1, 0]])).scalars   // [0.5]
/// ```
public func glu(_ x: Tensor) throws -> Tensor {
    let shape = try ActivationFunction.glu.outputShape(x.shape)
    let half = shape.last!, rows = half == 0 ? 0 : shape.reduce(1, *) / half
    let y = Tensor(uninitializedShape: shape)
    ck_glu_forward(Int64(rows), Int64(half), x.pointer, y.pointer)
    return y.recorded("glu", inputs: [x]) { g in
        let dx = Tensor(uninitializedShape: x.shape)
        ck_glu_backward(Int64(rows), Int64(half), x.pointer, g.pointer, dx.pointer)
        return [dx]
    }
}

/// Keras 3's sparsemax over the last axis: max(x − τ, 0) with, after sorting a row in
/// descending order (cumulative sums cᵣ, support sᵣ = [zᵣ > (cᵣ − 1)/(r + 1)], k = Σ sᵣ),
/// τ = (Σ sᵣ·cᵣ − 1)/k. Keras sums the cumulative sums over the whole support where the paper
/// (Martins & Astudillo) takes c at k only, so rows need not sum to 1 — this follows Keras.
///
/// ```swift
/// try sparsemax(Tensor([[1, 0, 0, -3]])).scalars   // [1, 0, 0, 0]
/// ```
public func sparsemax(_ x: Tensor) throws -> Tensor {
    guard x.rank >= 1 else {
        throw PeregrineError.invalidArgument(operation: "sparsemax", expected: "rank ≥ 1", actual: "a scalar")
    }
    let n = x.shape.last!, rows = n == 0 ? 0 : x.scalarCount / n
    let y = Tensor(uninitializedShape: x.shape)
    ck_sparsemax_forward(Int64(rows), Int64(n), x.pointer, y.pointer)
    return y.recorded("sparsemax", inputs: [x]) { g in
        let dx = Tensor(uninitializedShape: x.shape)
        ck_sparsemax_backward(Int64(rows), Int64(n), x.pointer, g.pointer, dx.pointer)
        return [dx]
    }
}

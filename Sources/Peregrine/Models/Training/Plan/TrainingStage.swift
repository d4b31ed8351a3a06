/// One link of a ``TrainingPlan``: a layer, or a chain of layers the eager path also fuses, whose
/// forward and backward passes write into buffers made once, when the plan is built.
///
/// A stage calls the same C kernels, in the same order, as the layer's recorded operation does
/// on a tape, so a planned step and a taped step give the same bits; what it does not do is
/// allocate: no tensor, no shape array, no tape node or closure per step (issue #6).
///
/// ```swift
/// let stage = try DenseStage(dense, input: x)    // output: [batch, units]
/// try stage.forward(x)
/// try stage.backward(x, outputGradient: dy, inputGradient: dx)
/// ```
protocol TrainingStage: AnyObject {
    /// The layers this stage runs (one, or a fused chain), for the plan's staleness check.
    var layers: [Layer] { get }
    /// The output for the plan's batch, rewritten by every ``forward(_:)``.
    var output: Tensor { get }
    /// The trainable variables this stage differentiates, each with the buffer its gradient is
    /// written to, in the order of the layers' `trainableWeights`.
    var gradients: [(variable: Variable, gradient: Tensor)] { get }
    /// Runs the layers in training mode on `x` (the plan's batch shape), writing ``output``.
    func forward(_ x: Tensor) throws
    /// Writes the weight gradients, and dL/dx into `inputGradient` unless it is nil (nothing
    /// before this stage needs it), from dL/d``output``. `x` is the input `forward` saw.
    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws
    /// For a stage that only reshapes: dL/dx as a view of dL/dy (nil, the default: the plan
    /// gives dL/dx a buffer of its own).
    func inputGradientView(inputShape: [Int], outputGradient: Tensor) -> Tensor?
    /// The shapes of the temporaries the stage needs, each live only within one call of
    /// ``forward(_:)`` or ``backward(_:outputGradient:inputGradient:)`` (so the plan lets all
    /// stages share them).
    func temporaryShapes(computesInputGradient: Bool) -> [[Int]]
    /// The buffers for ``temporaryShapes(computesInputGradient:)``, in the same order.
    func bindTemporaries(_ buffers: [Tensor])
    /// For a stage whose output is softmax(z): z, which a cross-entropy on the output scores
    /// instead, as Keras does (then the output gradient the plan passes is dL/dz). nil otherwise.
    var softmaxLogits: Tensor? { get }
    /// Called after a step's backward pass: lets go of anything that refers to the step's input
    /// (so `fit` can gather the next batch into the same buffer).
    func endStep()
}

extension TrainingStage {
    func inputGradientView(inputShape: [Int], outputGradient: Tensor) -> Tensor? { nil }

    func temporaryShapes(computesInputGradient: Bool) -> [[Int]] { [] }

    func bindTemporaries(_ buffers: [Tensor]) {}

    func endStep() {}

    var softmaxLogits: Tensor? { nil }

    var gradients: [(variable: Variable, gradient: Tensor)] { [] }
}

import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// A `Sequential` model's (or a functional chain's) training step, planned once for one batch
/// shape so that a warm step allocates nothing on the heap (issue #6): every activation,
/// gradient, saved state and loss buffer is made when the plan is built, and each step only runs
/// kernels into them.
///
/// The eager path records a tape node, a closure, a shape array and a storage object per
/// operation — hundreds of small allocations per step. A plan runs the same kernels in the same
/// order (each ``TrainingStage`` calls the code the layer's taped call runs), so its steps give
/// the same bits; it only skips the bookkeeping a step that repeats itself does not need.
///
/// `fit` (so `peregrine train` and `bench train`) and `WorkloadBenchmarks`' steps use a plan
/// whenever the model allows one:
/// - a `Sequential` model, or a functional one that is a chain (one input, one output, each
///   layer fed by the one before), of `Dense`, `Conv2D`, `MaxPooling2D`, `BatchNormalization`,
///   `Activation` (ReLU, sigmoid, tanh, linear), `Dropout`, `Flatten` and plain `LSTM`, `GRU`
///   and `SimpleRNN` layers
///   (exactly these classes, built, every weight trainable);
/// - one loss, weight 1: `SparseCategoricalCrossentropy` (class indices `[batch]`) or
///   `CategoricalCrossentropy` (targets `[batch, classes]`, no label smoothing), on logits or on
///   the probabilities of a last `Dense(activation: .softmax)` (scored from its logits, as Keras);
/// - the numerics check off.
/// Anything else trains on the tape, as before. `PEREGRINE_TRAINING_PLAN=0` turns plans off
/// (to compare the two paths).
///
/// ```swift
/// if let plan = TrainingPlan(model: model, layers: layers, training: config, x: xb, y: yb) {
///     let loss = try plan.step(xb, yb, optimizer: config.optimizer)
/// }
/// ```
final class TrainingPlan {
    /// Whether plans are used at all (`PEREGRINE_TRAINING_PLAN=0` in the environment: no).
    static let isEnabled = (getenv("PEREGRINE_TRAINING_PLAN").map { String(cString: $0) } ?? "1") != "0"

    /// The batch shape the plan was built for.
    let inputShape: [Int]
    private let stages: [TrainingStage]
    /// Every layer the stages run, all trainable when the plan was built.
    private let layers: [Layer]
    /// The trained variables and their gradient buffers, in the same order (the optimizer's input).
    let variables: [Variable]
    private let gradients: [Tensor?]
    /// Per stage: dL/d(its output), and dL/d(its input) when a stage before it has weights.
    private let outputGradients: [Tensor]
    private let inputGradients: [Tensor?]
    /// Per stage: whether its backward has anything to do.
    private let runsBackward: [Bool]
    /// The cross-entropies a plan computes: on class indices [batch] (`SparseCategoricalCrossentropy`)
    /// or on one-hot or soft targets [batch, classes] (`CategoricalCrossentropy`).
    enum CrossEntropy { case sparse, categorical }
    private let loss: CrossEntropy
    /// The loss's buffers: labels as int32 [batch] (with the kernel's validity flags), per-sample
    /// losses, their sum.
    private let labels: IntTensor, valid: Tensor, perSample: Tensor, total: Tensor
    private let classes: Int

    /// A plan for `layers` (the model's, in order) training on batches shaped like `x`, `y`, or
    /// nil when something in the model, the loss or the batch is not one a plan covers.
    init?(model: Model, layers modelLayers: [Layer], training: TrainingConfiguration, x: Tensor, y: Tensor) {
        guard Self.isEnabled, !NumericsCheck.isOn, model.trainable, x.rank >= 2,
            training.losses.count == 1, training.lossWeights == [1],
            let (loss, fromLogits) = Self.plannedLoss(training.losses[0])
        else { return nil }
        var stages: [TrainingStage] = []
        var shape = x.shape
        var index = 0
        while index < modelLayers.count {
            let layer = modelLayers[index]
            let next = index + 1 < modelLayers.count ? modelLayers[index + 1] : nil
            guard layer.isBuilt, let stage = Self.stage(layer, next: next, inputShape: shape),
                Self.trainsEveryWeight(of: stage)
            else { return nil }
            stages.append(stage)
            shape = stage.output.shape
            index += stage.layers.count
        }
        // Logits, or probabilities from a last Dense's softmax (scored from its logits, as Keras
        // does); a softmax anywhere else would need its own backward: the tape's.
        guard let last = stages.last, shape.count == 2, shape[0] == x.shape[0], shape[1] > 0,
            stages.dropLast().allSatisfy({ $0.softmaxLogits == nil }), fromLogits == (last.softmaxLogits == nil),
            loss == .sparse ? y.shape == [x.shape[0]] : y.shape == shape
        else { return nil }
        self.loss = loss
        // A layer used twice shares its weights between two places: their gradients add up on
        // the tape, and each stage here would update them on its own.
        let planned = stages.flatMap(\.layers)
        guard Set(planned.map(ObjectIdentifier.init)).count == planned.count else { return nil }
        self.stages = stages
        inputShape = x.shape
        layers = planned
        let trained = stages.flatMap(\.gradients)
        variables = trained.map(\.variable)
        gradients = trained.map(\.gradient)

        // Gradients from the loss back: stage i's input gradient is stage i−1's output gradient.
        // Each lives from one stage's backward to the next one's, so two buffers serve them all,
        // taken in turn (a reshaping stage's is a view of its output gradient: same buffer).
        // The stages' own temporaries share a further set. Fewer, reused buffers stay in the
        // caches as a pool's recycled ones would on the tape.
        var weightsBefore = stages.map { !$0.gradients.isEmpty }
        for i in weightsBefore.indices.dropFirst() { weightsBefore[i] = weightsBefore[i] || weightsBefore[i - 1] }
        let computesInput = stages.indices.map { $0 > 0 && weightsBefore[$0 - 1] }
        let boundaryFloats = ([last.output.scalarCount] + stages.indices.filter { computesInput[$0] }
            .map { stages[$0 - 1].output.scalarCount }).max() ?? 0
        let boundaries = [TensorStorage<Float>(count: boundaryFloats), TensorStorage<Float>(count: boundaryFloats)]
        func view(_ root: TensorStorage<Float>, _ shape: [Int]) -> Tensor {
            Tensor(shape: shape, storage: TensorStorage(viewing: root, offset: 0, count: shape.reduce(1, *)))
        }
        var outputGradients = [Tensor](repeating: view(boundaries[0], last.output.shape), count: stages.count)
        var inputGradients = [Tensor?](repeating: nil, count: stages.count)
        var runsBackward = [Bool](repeating: false, count: stages.count)
        var scratchShapes: [[[Int]]] = []
        for i in stages.indices.reversed() {
            runsBackward[i] = computesInput[i] || !stages[i].gradients.isEmpty
            scratchShapes.insert(stages[i].temporaryShapes(computesInputGradient: computesInput[i]), at: 0)
            guard computesInput[i] else { continue }
            let shape = stages[i - 1].output.shape, upstream = outputGradients[i]
            let gradient = stages[i].inputGradientView(inputShape: shape, outputGradient: upstream)
                ?? view(upstream.storage.viewed === boundaries[0] ? boundaries[1] : boundaries[0], shape)
            inputGradients[i] = gradient
            outputGradients[i - 1] = gradient
        }
        let slots = scratchShapes.map(\.count).max() ?? 0
        let scratch = (0..<slots).map { slot in
            TensorStorage<Float>(count: scratchShapes.compactMap { $0.count > slot ? $0[slot].reduce(1, *) : nil }.max() ?? 0)
        }
        for (stage, shapes) in zip(stages, scratchShapes) where !shapes.isEmpty {
            stage.bindTemporaries(shapes.enumerated().map { view(scratch[$0.offset], $0.element) })
        }
        self.outputGradients = outputGradients
        self.inputGradients = inputGradients
        self.runsBackward = runsBackward
        let batch = x.shape[0]
        classes = shape[1]
        labels = IntTensor(uninitializedShape: [batch])
        valid = Tensor(uninitializedShape: [batch])
        perSample = Tensor(uninitializedShape: [batch])
        total = Tensor(uninitializedShape: [])
    }

    /// The stage that runs `layer` (with `next` fused in exactly where `Sequential` fuses it on
    /// a tape, GraphFusions), or nil.
    private static func stage(_ layer: Layer, next: Layer?, inputShape shape: [Int]) -> TrainingStage? {
        let fusion = next.flatMap { GraphFusions.chain(head: layer, following: [$0])?.kind }
        // Exact classes only: a subclass may override `call`, and the plan would not run it.
        switch layer {
        case let dense as Dense where type(of: dense) == Dense.self:
            return DenseStage(dense, inputShape: shape)
        case let conv as Conv2D where type(of: conv) == Conv2D.self:
            let pool = fusion == .convReLUMaxPool ? next as? MaxPooling2D : nil
            if pool.map({ type(of: $0) != MaxPooling2D.self }) == true { return nil }
            return ConvolutionStage(conv, pool: pool, inputShape: shape)
        case let pool as MaxPooling2D where type(of: pool) == MaxPooling2D.self:
            return MaxPoolingStage(pool, inputShape: shape)
        case let norm as BatchNormalization where type(of: norm) == BatchNormalization.self:
            let relu = fusion == .batchNormReLU ? next as? Activation : nil
            return BatchNormalizationStage(norm, relu: relu, inputShape: shape)
        case let flatten as Flatten where type(of: flatten) == Flatten.self:
            return ReshapeStage(flatten, outputShape: [shape[0], shape.dropFirst().reduce(1, *)])
        case let dropout as Dropout where type(of: dropout) == Dropout.self:
            return dropout.rate == 0 ? ReshapeStage(dropout, outputShape: shape) : DropoutStage(dropout, inputShape: shape)
        case let activation as Activation where type(of: activation) == Activation.self:
            return activation.activation == .linear
                ? ReshapeStage(activation, outputShape: shape) : ActivationStage(activation, inputShape: shape)
        case let recurrent as RecurrentLayer
            where [ObjectIdentifier(LSTM.self), ObjectIdentifier(GRU.self), ObjectIdentifier(SimpleRNN.self)]
                .contains(ObjectIdentifier(type(of: recurrent))):
            return RecurrentStage(recurrent, inputShape: shape)
        default:
            return nil
        }
    }

    /// The plan's kind of `loss` and whether it takes logits, or nil for a loss the tape must
    /// run (weights, label smoothing, an ignored class, another reduction).
    private static func plannedLoss(_ loss: any Loss) -> (CrossEntropy, fromLogits: Bool)? {
        if let sparse = loss as? SparseCategoricalCrossentropy, sparse.ignoreClass == nil,
            sparse.reduction == .sumOverBatchSize {
            return (.sparse, sparse.fromLogits)
        }
        if let categorical = loss as? CategoricalCrossentropy, categorical.labelSmoothing == 0,
            categorical.reduction == .sumOverBatchSize {
            return (.categorical, categorical.fromLogits)
        }
        return nil
    }

    /// Whether the stage differentiates exactly its layers' trainable weights (no frozen weight
    /// and no frozen layer: those train on the tape).
    private static func trainsEveryWeight(of stage: TrainingStage) -> Bool {
        let trained = Set(stage.gradients.map { ObjectIdentifier($0.variable) })
        let trainable = stage.layers.reduce(0) { $0 + $1.trainableWeights.count }
        return trained.count == stage.gradients.count && trained.count == trainable
            && stage.layers.allSatisfy { layer in
                // A batch normalisation's moving statistics are its only weights no gradient reaches.
                let statistics = (layer as? BatchNormalization).map {
                    [$0.movingMean, $0.movingVariance].compactMap { $0 }.map(ObjectIdentifier.init)
                } ?? []
                return layer.trainable && layer.weights.allSatisfy { weight in
                    weight.trainable ? trained.contains(ObjectIdentifier(weight)) : statistics.contains(ObjectIdentifier(weight))
                }
            }
    }

    /// Whether the plan still fits the model and these batches: the same shapes, and every
    /// layer and weight still trainable.
    func fits(_ x: Tensor, _ y: Tensor, model: Model) -> Bool {
        let labels = loss == .sparse ? y.rank == 1 : y.rank == 2 && y.shape[1] == classes
        return x.shape == inputShape && labels && y.shape[0] == inputShape[0] && model.trainable
            && layers.allSatisfy(\.trainable) && variables.allSatisfy(\.trainable)
    }

    /// The model's output of the last step, [batch, classes]: logits, or a last softmax's
    /// probabilities.
    var predictions: Tensor { stages[stages.count - 1].output }

    /// One training step on `x`, `y`: forward, loss, backward, then `optimizer` updates the
    /// weights. Returns the loss (the batch's mean cross-entropy).
    ///
    /// Throws, before the optimizer's update, when a label is not a class index (a batch
    /// normalisation's moving statistics have moved by then, as they have on the tape).
    func step(_ x: Tensor, _ y: Tensor, optimizer: Optimizer) throws -> Float {
        var input = x
        for stage in stages {
            try stage.forward(input)
            input = stage.output
        }
        let last = stages[stages.count - 1]
        let loss = try crossEntropy(logits: last.softmaxLogits ?? input, labels: y, gradient: outputGradients[stages.count - 1])
        for i in stages.indices.reversed() where runsBackward[i] {
            try stages[i].backward(i == 0 ? x : stages[i - 1].output, outputGradient: outputGradients[i], inputGradient: inputGradients[i])
        }
        for stage in stages.dropLast() { stage.endStep() }   // the last one's output is the predictions
        try optimizer.apply(gradients, to: variables)
        return loss
    }

    /// Softmax cross-entropy on logits, averaged over the batch (Keras's `sum_over_batch_size`),
    /// and its gradient w.r.t. the logits into `gradient` — the kernels and the rounding order of
    /// the taped loss: the mean as sum / n, the gradient as (1 / n)·∂loss_r/∂logits.
    private func crossEntropy(logits: Tensor, labels y: Tensor, gradient: Tensor) throws -> Float {
        let rows = inputShape[0]
        switch loss {
        case .sparse:
            let bad = ck_sparse_labels(Int64(rows), y.pointer, Int32(clamping: classes), 0, 0, labels.storage.pointer, valid.pointer)
            if bad >= 0 {
                throw PeregrineError.invalidArgument(
                    operation: "sparse_categorical_crossentropy", expected: "integer labels in 0..<\(classes)",
                    actual: "\(y.pointer[Int(bad)]) at index \(bad)")
            }
            ck_sparse_softmax_cross_entropy(
                Int64(rows), Int64(classes), logits.pointer, labels.storage.pointer, perSample.pointer, gradient.pointer, nil)
        case .categorical:
            ck_softmax_cross_entropy(Int64(rows), Int64(classes), logits.pointer, y.pointer, perSample.pointer, gradient.pointer, nil)
        }
        ck_reduce(CK_REDUCE_SUM, 1, Int64(rows), 1, perSample.pointer, total.pointer)
        var scale = 1 / Float(rows)
        multiply(count: rows * classes, gradient.pointer, &scale, bStride: 0, into: gradient.pointer)
        return total.pointer.pointee / Float(rows)
    }
}

@testable import Peregrine
import Testing

/// A TrainingPlan runs the kernels a taped step runs, in the same order, into buffers made once.
/// So a model that `fit` trains with plans must end with exactly the weights (bit for bit, the
/// moving statistics included) and the epoch losses of the same model trained on the tape —
/// for every kind of stage, fused chains, a first layer whose input needs no gradient, and the
/// shorter last batch of an epoch (a second plan).
struct TrainingPlanTests {
    enum Architecture: String, CaseIterable {
        case dense, convolution, normalization, lstm, lstmBackwards
        /// Probabilities from a last Dense's softmax, sparse labels.
        case softmaxOutput
        /// One-hot targets, CategoricalCrossentropy on logits / on a softmax's probabilities.
        case categorical, categoricalSoftmax
        /// A functional model that is a chain (fusions included).
        case functional
        /// The other recurrent cells.
        case gru, gruResetBefore, simpleRNN
    }

    /// The loss each architecture trains with.
    static func loss(_ architecture: Architecture) -> any Loss {
        switch architecture {
        case .softmaxOutput: SparseCategoricalCrossentropy()
        case .categorical: CategoricalCrossentropy(fromLogits: true)
        case .categoricalSoftmax: CategoricalCrossentropy()
        default: SparseCategoricalCrossentropy(fromLogits: true)
        }
    }

    /// Per-sample input shape and number of classes of each architecture.
    static func data(_ architecture: Architecture) -> (shape: [Int], classes: Int) {
        switch architecture {
        case .dense, .softmaxOutput: ([5, 7], 4)
        case .convolution, .normalization, .categorical, .functional: ([9, 8, 3], 5)
        case .lstm, .lstmBackwards, .categoricalSoftmax, .gru, .gruResetBefore, .simpleRNN: ([6, 5], 3)
        }
    }

    static func model(_ architecture: Architecture) throws -> Model {
        let (shape, classes) = data(architecture)
        switch architecture {
        case .dense:
            return try Sequential {
                Input(shape: shape)
                Flatten()
                Dense(units: 13, activation: .relu)
                Dense(units: 11, activation: .sigmoid)
                Dropout(rate: 0.3, seed: 9)
                Dense(units: 9, activation: .tanh)
                Activation(.relu)
                Dense(units: classes)
            }
        case .convolution:
            return try Sequential {
                Input(shape: shape)
                Conv2D(filters: 4, kernelSize: (3, 3), activation: .relu)
                MaxPooling2D()
                Conv2D(filters: 6, kernelSize: (2, 2), padding: .same, activation: .tanh)
                Conv2D(filters: 5, kernelSize: (2, 2), activation: .sigmoid, useBias: false)
                MaxPooling2D(poolSize: (2, 2), strides: (1, 1))
                Flatten()
                Dropout(rate: 0)
                Dense(units: classes)
            }
        case .normalization:
            // A first layer with weights whose input needs no gradient (the discarded dx).
            return try Sequential {
                Input(shape: shape)
                BatchNormalization()
                Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, useBias: false)
                BatchNormalization()
                Activation(.relu)
                MaxPooling2D()
                Conv2D(filters: 3, kernelSize: (3, 3))
                BatchNormalization(momentum: 0.9, epsilon: 1e-2)
                Activation(.linear)
                Flatten()
                Dense(units: classes)
            }
        case .lstm:
            return try Sequential {
                Input(shape: shape)
                LSTM(units: 7)
                Dense(units: classes)
            }
        case .lstmBackwards:
            return try Sequential {
                Input(shape: shape)
                Dense(units: 4, activation: .tanh)
                LSTM(units: 6, goBackwards: true)
                Dense(units: classes)
            }
        case .softmaxOutput:
            return try Sequential {
                Input(shape: shape)
                Flatten()
                Dense(units: 12, activation: .relu)
                Dense(units: classes, activation: .softmax)
            }
        case .categorical:
            return try Sequential {
                Input(shape: shape)
                Conv2D(filters: 4, kernelSize: (3, 3), activation: .relu)
                MaxPooling2D()
                Flatten()
                Dense(units: classes)
            }
        case .categoricalSoftmax:
            return try Sequential {
                Input(shape: shape)
                LSTM(units: 5)
                Dense(units: classes, activation: .softmax)
            }
        case .gru, .gruResetBefore:
            return try Sequential {
                Input(shape: shape)
                GRU(units: 6, resetAfter: architecture == .gru)
                Dense(units: classes)
            }
        case .simpleRNN:
            return try Sequential {
                Input(shape: shape)
                Dense(units: 4, activation: .sigmoid)
                SimpleRNN(units: 7, activation: .relu, goBackwards: true)
                Dense(units: classes)
            }
        case .functional:
            let input = Input(shape: shape)
            var x = try Conv2D(filters: 4, kernelSize: (3, 3), activation: .relu)(input)
            x = try MaxPooling2D()(x)
            x = try BatchNormalization()(x)
            x = try Activation(.relu)(x)
            x = try Flatten()(x)
            x = try Dropout(rate: 0.2, seed: 3)(x)
            return try Model(inputs: [input], outputs: [try Dense(units: classes)(x)])
        }
    }

    /// Trains `architecture` for two epochs over 40 samples in batches of 16 (16, 16,
    /// 8), with or without plans: every weight's bits, the epoch losses, the plans held.
    static func train(_ architecture: Architecture, plans: Bool) throws -> (weights: [[UInt32]], losses: [Float], plans: Int) {
        try Peregrine.withFreshSession {
            // Seeded weights, a seeded dropout and no shuffling: the tests run in parallel and
            // share the global random stream, so nothing here may draw from it.
            let model = try model(architecture)
            for (index, weight) in model.trainableWeights.enumerated() {
                try weight.assign(try Tensor.randomUniform(weight.shape, lowerBound: -0.5, upperBound: 0.5, seed: UInt64(index + 1)))
            }
            model.usesTrainingPlans = plans
            try model.compile(optimizer: try Adam(learningRate: 0.01), loss: loss(architecture), metrics: ["accuracy"])
            let (shape, classes) = data(architecture)
            let x = try Tensor.randomUniform([40] + shape, lowerBound: -1, upperBound: 1, seed: 5)
            let indices = (0..<40).map { ($0 * 7 + 3) % classes }
            let y = loss(architecture) is CategoricalCrossentropy
                ? try Tensor(shape: [40, classes], scalars: indices.flatMap { i in (0..<classes).map { $0 == i ? 1 : 0 } })
                : Tensor(indices.map(Float.init))
            let history = try model.fit(x, y, batchSize: 16, epochs: 2, verbose: .silent, shuffle: false)
            return (model.weights.map { $0.value.scalars.map(\.bitPattern) }, history.history["loss"] ?? [],
                    model.trainingPlans.count)
        }
    }

    @Test(arguments: Architecture.allCases)
    func plannedStepsEqualTapedSteps(_ architecture: Architecture) throws {
        let planned = try Self.train(architecture, plans: true)
        let taped = try Self.train(architecture, plans: false)
        #expect(planned.plans == 2, "one plan for the batches of 16, one for the last batch of 8")
        #expect(taped.plans == 0)
        #expect(planned.losses.count == 2 && planned.losses == taped.losses)
        #expect(planned.weights.count == taped.weights.count)
        for (index, (a, b)) in zip(planned.weights, taped.weights).enumerated() {
            let differing = zip(a, b).filter { $0 != $1 }.count
            #expect(a.count == b.count && differing == 0, "weight \(index): \(differing) of \(a.count) differ")
        }
    }

    /// A compiled dense model with seeded weights, and 40 samples of 4 classes.
    static func denseSetup(loss: any Loss = SparseCategoricalCrossentropy(fromLogits: true)) throws
        -> (model: Model, x: Tensor, y: Tensor)
    {
        let model = try Self.model(.dense)
        for (index, weight) in model.trainableWeights.enumerated() {
            try weight.assign(try Tensor.randomUniform(weight.shape, lowerBound: -0.5, upperBound: 0.5, seed: UInt64(index + 1)))
        }
        try model.compile(optimizer: try Adam(), loss: loss)
        let x = try Tensor.randomUniform([40, 5, 7], lowerBound: -1, upperBound: 1, seed: 5)
        return (model, x, Tensor((0..<40).map { Float($0 % 4) }))
    }

    /// What a plan does not cover trains on the tape: a frozen layer, another loss, a softmax
    /// that needs its own backward, a layer used twice, a graph with branches, labels of
    /// another shape.
    @Test func uncoveredModelsTrainOnTheTape() throws {
        let frozen = try Self.denseSetup()
        frozen.model.layers[1].trainable = false
        _ = try frozen.model.fit(frozen.x, frozen.y, batchSize: 16, verbose: .silent, shuffle: false)
        #expect(frozen.model.trainingPlans.count == 0)

        let probabilities = try Self.denseSetup(loss: SparseCategoricalCrossentropy())
        _ = try probabilities.model.fit(probabilities.x, probabilities.y, batchSize: 16, verbose: .silent, shuffle: false)
        #expect(probabilities.model.trainingPlans.count == 0)

        // A softmax whose backward the loss does not skip: in a hidden layer, or scored as logits.
        for (hidden, fromLogits) in [(true, true), (false, true)] {
            let model = try Sequential {
                Input(shape: [5, 7])
                Flatten()
                Dense(units: 8, activation: hidden ? .softmax : .relu)
                Dense(units: 4, activation: hidden ? .linear : .softmax)
            }
            try model.compile(optimizer: try Adam(), loss: SparseCategoricalCrossentropy(fromLogits: fromLogits))
            _ = try model.fit(frozen.x, frozen.y, batchSize: 16, verbose: .silent, shuffle: false)
            #expect(model.trainingPlans.count == 0, "softmax \(hidden ? "hidden" : "last, scored as logits")")
        }

        // One layer in two places: its weights' gradients add up, which the tape does.
        let shared = Dense(units: 7, activation: .tanh)
        let twice = try Sequential {
            Input(shape: [7])
            shared
            shared
            Dense(units: 4)
        }
        try twice.compile(optimizer: try Adam(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        _ = try twice.fit(try frozen.x.reshaped(to: [200, 7]), Tensor((0..<200).map { Float($0 % 4) }),
                          batchSize: 50, verbose: .silent, shuffle: false)
        #expect(twice.trainingPlans.count == 0, "a layer used twice")

        // A functional graph that is not a chain: two branches added.
        let input = Input(shape: [5, 7])
        let flat = try Flatten()(input)
        let sum = try Add()([try Dense(units: 6)(flat), try Dense(units: 6)(flat)])[0]
        let branches = try Model(inputs: [input], outputs: [try Dense(units: 4)(sum)])
        try branches.compile(optimizer: try Adam(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        _ = try branches.fit(frozen.x, frozen.y, batchSize: 16, verbose: .silent, shuffle: false)
        #expect(branches.trainingPlans.count == 0, "a graph with branches")

        let columns = try Self.denseSetup()
        _ = try columns.model.fit(columns.x, try columns.y.reshaped(to: [40, 1]), batchSize: 16, verbose: .silent, shuffle: false)
        #expect(columns.model.trainingPlans.count == 0)
    }

    /// Freezing a layer between two `fit` calls retires the plan: the frozen weights stay put.
    @Test func freezingALayerRetiresThePlan() throws {
        let (model, x, y) = try Self.denseSetup()
        _ = try model.fit(x, y, batchSize: 20, verbose: .silent, shuffle: false)
        #expect(model.trainingPlans.count == 1)
        let layer = model.layers[1]
        layer.trainable = false
        let before = layer.weights.map { $0.value.scalars }
        _ = try model.fit(x, y, batchSize: 20, verbose: .silent, shuffle: false)
        #expect(layer.weights.map { $0.value.scalars } == before)
        #expect(model.trainingPlans.count == 0)
    }

    /// A label that is not a class index throws the taped loss's error, before any weight moves.
    @Test func badLabelsThrowBeforeTheUpdate() throws {
        let (model, x, y) = try Self.denseSetup()
        _ = try model.fit(x, y, batchSize: 20, verbose: .silent, shuffle: false)   // plans made
        var bad = y
        bad.withUnsafeMutableBufferPointer { $0[3] = 4 }
        let before = model.weights.map { $0.value.scalars }
        do {
            _ = try model.fit(x, bad, batchSize: 20, verbose: .silent, shuffle: false)
            Issue.record("a label of 4 with 4 classes trained")
        } catch {
            #expect("\(error)".contains("integer labels in 0..<4") && "\(error)".contains("4.0 at index 3"), "\(error)")
        }
        #expect(model.trainingPlans.count == 1, "the step that threw ran on the plan")
        #expect(model.weights.map { $0.value.scalars } == before)
    }
}

import Foundation
import Peregrine
import Testing

/// One bad input: what is done, and what its message must mention — the operation or layer,
/// what was expected and what came.
struct BadInputCase: Sendable, CustomTestStringConvertible {
    let name: String
    let mentions: [String]
    let body: @Sendable () throws -> Void

    init(_ name: String, mentions: [String], _ body: @escaping @Sendable () throws -> Void) {
        self.name = name
        self.mentions = mentions
        self.body = body
    }

    var testDescription: String { name }
}

/// Table-driven bad-input cases: each must throw a ``PeregrineError`` (never crash) whose
/// message contains every string in `mentions` — the op or layer's name, the expectation and
/// what came (shapes, values, names).
@Suite struct BadInputMessageTests {
    static let weightsFolder: URL = (try? TestFiles.directory("badinput")) ?? TestFiles.root

    /// A built Sequential 4 → 3 → 2, named so that messages can be checked.
    static func smallModel(_ name: String) throws -> Sequential {
        try Sequential(
            [InputLayer(shape: [4]), Dense(units: 3, name: "\(name)_hidden"), Dense(units: 2, name: "\(name)_out")],
            name: name)
    }

    static let cases: [BadInputCase] = [
        // ---- tensors: shapes and ranks
        BadInputCase("add of non-broadcastable shapes", mentions: ["add", "[2, 3]", "[4]", "broadcastable"]) {
            _ = try Tensor.zeros([2, 3]) + Tensor.zeros([4])
        },
        BadInputCase("multiply of non-broadcastable shapes", mentions: ["multiply", "[2, 3]", "[3, 2]"]) {
            _ = try Tensor.zeros([2, 3]) * Tensor.zeros([3, 2])
        },
        BadInputCase("maximum of non-broadcastable shapes", mentions: ["maximum", "[5]", "[3]"]) {
            _ = try maximum(Tensor.zeros([5]), Tensor.zeros([3]))
        },
        BadInputCase("matmul with mismatched inner sizes", mentions: ["matmul", "[2, 3]", "[4, 5]"]) {
            _ = try matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]))
        },
        BadInputCase("matmul of a vector", mentions: ["matmul", "[3]"]) {
            _ = try matmul(Tensor.zeros([3]), Tensor.zeros([3, 2]))
        },
        BadInputCase("reshape to another size", mentions: ["reshape", "6", "[4]"]) {
            _ = try Tensor.zeros([2, 3]).reshaped(to: [4])
        },
        BadInputCase("reshape with two inferred axes", mentions: ["reshape", "-1"]) {
            _ = try Tensor.zeros([2, 3]).reshaped(to: [-1, -1])
        },
        BadInputCase("sum over an axis out of range", mentions: ["sum", "2", "rank-2"]) {
            _ = try Tensor.zeros([2, 3]).sum(axis: 2)
        },
        BadInputCase("softmax over an axis out of range", mentions: ["softmax", "3", "rank-2"]) {
            _ = try softmax(Tensor.zeros([2, 3]), axis: 3)
        },
        BadInputCase("concatenate with other sizes off the axis", mentions: ["concatenate", "[2, 3]", "[3, 4]"]) {
            _ = try Tensor.concatenate([Tensor.zeros([2, 3]), Tensor.zeros([3, 4])], axis: 0)
        },
        BadInputCase("permute with a repeated axis", mentions: ["permute", "[0, 0]"]) {
            _ = try Tensor.zeros([2, 3]).permuted([0, 0])
        },
        BadInputCase("tensor with too few scalars for its shape", mentions: ["[2, 2]", "4", "3"]) {
            _ = try Tensor(shape: [2, 2], scalars: [1, 2, 3])
        },
        BadInputCase("integer tensor with too many scalars", mentions: ["[2]", "2", "3"]) {
            _ = try IntTensor(shape: [2], scalars: [1, 2, 3])
        },
        BadInputCase("negative size", mentions: ["-1", "[-1, 2]"]) {
            _ = try Tensor.zeros([-1, 2])
        },
        BadInputCase("broadcast to a smaller shape", mentions: ["broadcast", "[2, 3]", "[3]"]) {
            _ = try Tensor.zeros([2, 3]).broadcasted(to: [3])
        },
        BadInputCase("squeeze an axis that is not 1", mentions: ["squeezingShape", "size 1", "size 2", "[2, 3]"]) {
            _ = try Tensor.zeros([2, 3]).squeezingShape(at: 0)
        },

        // ---- layers: configuration and input shapes
        BadInputCase("Dense with zero units", mentions: ["bad_dense", "units", "0"]) {
            _ = try Dense(units: 0, name: "bad_dense")(Tensor.zeros([2, 3]))
        },
        BadInputCase("Dense called on another feature size", mentions: ["dense_feat", "4", "5"]) {
            let layer = Dense(units: 2, name: "dense_feat")
            _ = try layer(Tensor.zeros([2, 4]))
            _ = try layer(Tensor.zeros([2, 5]))
        },
        BadInputCase("layer called on a scalar", mentions: ["dense_scalar", "rank", "scalar"]) {
            _ = try Dense(units: 2, name: "dense_scalar")(Tensor(1))
        },
        BadInputCase("Conv2D kernel larger than a valid-padded input", mentions: ["conv_big", "5", "3"]) {
            _ = try Conv2D(filters: 2, kernelSize: (5, 5), name: "conv_big")(Tensor.zeros([1, 3, 3, 1]))
        },
        BadInputCase("Conv2D on a rank-2 input", mentions: ["conv_rank", "rank", "4"]) {
            _ = try Conv2D(filters: 2, kernelSize: (3, 3), name: "conv_rank")(Tensor.zeros([2, 8]))
        },
        BadInputCase("Conv2D groups that do not divide the channels", mentions: ["conv_groups", "groups", "3"]) {
            _ = try Conv2D(filters: 4, kernelSize: (1, 1), groups: 2, name: "conv_groups")(Tensor.zeros([1, 4, 4, 3]))
        },
        BadInputCase("Conv2D with zero filters", mentions: ["conv_zero", "filters", "0"]) {
            _ = try Conv2D(filters: 0, kernelSize: (3, 3), name: "conv_zero")(Tensor.zeros([1, 5, 5, 1]))
        },
        BadInputCase("Conv2D with a zero stride", mentions: ["conv_stride", "stride", "0"]) {
            _ = try Conv2D(filters: 2, kernelSize: (3, 3), strides: (0, 1), name: "conv_stride")(Tensor.zeros([1, 5, 5, 1]))
        },
        BadInputCase("MaxPooling2D window larger than the input", mentions: ["pool_big", "4", "2"]) {
            _ = try MaxPooling2D(poolSize: (4, 4), name: "pool_big")(Tensor.zeros([1, 2, 2, 1]))
        },
        BadInputCase("MaxPooling2D on a rank-3 input", mentions: ["pool_rank", "rank"]) {
            _ = try MaxPooling2D(name: "pool_rank")(Tensor.zeros([1, 4, 4]))
        },
        BadInputCase("Embedding index beyond input_dim", mentions: ["emb_range", "7", "5"]) {
            _ = try Embedding(inputDim: 5, outputDim: 2, name: "emb_range")(Tensor(shape: [1, 2], scalars: [1, 7]))
        },
        BadInputCase("Reshape to a target of another size", mentions: ["reshape_bad", "[5]", "6"]) {
            _ = try Reshape(targetShape: [5], name: "reshape_bad")(Tensor.zeros([2, 2, 3]))
        },
        BadInputCase("Dropout with rate above 1", mentions: ["drop_rate", "1.5"]) {
            _ = try Dropout(rate: 1.5, name: "drop_rate")(Tensor.zeros([2, 3]), training: true)
        },
        BadInputCase("LSTM on a rank-2 input", mentions: ["lstm_rank", "rank", "3"]) {
            _ = try LSTM(units: 2, name: "lstm_rank")(Tensor.zeros([2, 3]))
        },
        BadInputCase("BatchNormalization axis out of range", mentions: ["bn_axis", "3"]) {
            _ = try BatchNormalization(axis: 3, name: "bn_axis")(Tensor.zeros([2, 3]))
        },
        BadInputCase("Concatenate with mismatched sizes off the axis", mentions: ["cat_bad", "[3, 3]", "[4, 3]"]) {
            _ = try Concatenate(axis: -1, name: "cat_bad")([Tensor.zeros([2, 3, 3]), Tensor.zeros([2, 4, 3])])
        },
        BadInputCase("Add of different shapes", mentions: ["add_bad", "[3]", "[4]"]) {
            _ = try Add(name: "add_bad")([Tensor.zeros([2, 3]), Tensor.zeros([2, 4])])
        },
        BadInputCase("unknown activation name", mentions: ["activation", "relux"]) {
            _ = try ActivationFunction(named: "relux")
        },
        BadInputCase("unknown padding name", mentions: ["padding", "valid", "full"]) {
            _ = try Padding(named: "full")
        },

        // ---- losses
        BadInputCase("sparse label equal to the class count", mentions: ["sparse_categorical_crossentropy", "0..<10", "10.0"]) {
            _ = try SparseCategoricalCrossentropy(fromLogits: true)(
                Tensor(shape: [2], scalars: [1, 10]), Tensor.zeros([2, 10]))
        },
        BadInputCase("negative sparse label", mentions: ["sparse_categorical_crossentropy", "0..<3", "-1.0"]) {
            _ = try SparseCategoricalCrossentropy()(Tensor(shape: [2], scalars: [-1, 0]), Tensor.ones([2, 3]) / 3)
        },
        BadInputCase("sparse labels for another batch size", mentions: ["3", "2"]) {
            _ = try SparseCategoricalCrossentropy(fromLogits: true)(
                Tensor(shape: [3], scalars: [0, 1, 0]), Tensor.zeros([2, 4]))
        },
        BadInputCase("mean squared error of different shapes", mentions: ["[4, 3]", "[4, 2]"]) {
            _ = try MeanSquaredError()(Tensor.zeros([4, 3]), Tensor.zeros([4, 2]))
        },
        BadInputCase("categorical crossentropy of different shapes", mentions: ["[2, 3]", "[2, 4]"]) {
            _ = try CategoricalCrossentropy()(Tensor.zeros([2, 3]), Tensor.ones([2, 4]) / 4)
        },

        // ---- models: compile, fit, predict, weights
        BadInputCase("unknown loss name", mentions: ["loss", "mean_squared_errr"]) {
            try smallModel("m_loss").compile(optimizer: "adam", loss: "mean_squared_errr")
        },
        BadInputCase("unknown optimizer name", mentions: ["optimizer", "adamm"]) {
            try smallModel("m_opt").compile(optimizer: "adamm", loss: "mse")
        },
        BadInputCase("unknown metric name", mentions: ["metric", "accuracyy"]) {
            let model = try smallModel("m_metric")
            try model.compile(optimizer: "adam", loss: "mse", metrics: ["accuracyy"])
            _ = try model.fit(Tensor.zeros([4, 4]), Tensor.zeros([4, 2]), verbose: .silent)
        },
        BadInputCase("fit before compile", mentions: ["m_fit", "compile"]) {
            _ = try smallModel("m_fit").fit(Tensor.zeros([4, 4]), Tensor.zeros([4, 2]), verbose: .silent)
        },
        BadInputCase("evaluate before compile", mentions: ["m_eval", "compile"]) {
            _ = try smallModel("m_eval").evaluate(Tensor.zeros([4, 4]), Tensor.zeros([4, 2]), verbose: .silent)
        },
        BadInputCase("fit with x and y of different sample counts", mentions: ["m_count", "10", "8"]) {
            let model = try smallModel("m_count")
            try model.compile(optimizer: "adam", loss: "mse")
            _ = try model.fit(Tensor.zeros([10, 4]), Tensor.zeros([8, 2]), verbose: .silent)
        },
        BadInputCase("predict on features that do not match Input(shape:)", mentions: ["m_pred", "4", "5"]) {
            _ = try smallModel("m_pred").predict(Tensor.zeros([2, 5]))
        },
        BadInputCase("predict on the wrong rank", mentions: ["m_rank", "[2, 2, 4]"]) {
            _ = try smallModel("m_rank").predict(Tensor.zeros([2, 2, 4]))
        },
        BadInputCase("loadWeights with other shapes", mentions: ["m_shapes", "[4, 3]", "[4, 5]"]) {
            let url = weightsFolder.appendingPathComponent("other-shapes.safetensors")
            try Sequential([InputLayer(shape: [4]), Dense(units: 5), Dense(units: 2)]).saveWeights(to: url)
            try smallModel("m_shapes").loadWeights(from: url)
        },
        BadInputCase("loadWeights with another weight count", mentions: ["m_names", "4 weights", "2 tensors"]) {
            let url = weightsFolder.appendingPathComponent("other-count.safetensors")
            try Sequential([InputLayer(shape: [4]), Dense(units: 2)]).saveWeights(to: url)
            try smallModel("m_names").loadWeights(from: url)
        },
        BadInputCase("Model.load of a weights-only file", mentions: ["Model.load", "architecture"]) {
            let url = weightsFolder.appendingPathComponent("weights-only.safetensors")
            try smallModel("m_arch").saveWeights(to: url)
            _ = try Model.load(from: url)
        },
        BadInputCase("second gradient call on a non-persistent tape", mentions: ["GradientTape.gradient", "persistent"]) {
            let x = Variable(try Tensor.ones([2]))
            let tape = GradientTape()
            let y = try tape.recording { try square(x.value).sum() }
            _ = try tape.gradient(y, x)
            _ = try tape.gradient(y, x)
        },
    ]

    @Test(arguments: cases) func badInputThrowsANamedMessage(_ bad: BadInputCase) {
        do {
            try bad.body()
            Issue.record("\(bad.name): no error was thrown")
        } catch let error as PeregrineError {
            let message = error.description
            for mention in bad.mentions {
                #expect(message.contains(mention), "\(bad.name): '\(message)' does not mention '\(mention)'")
            }
        } catch {
            Issue.record("\(bad.name): \(type(of: error)) instead of PeregrineError: \(error)")
        }
    }

    @Test func atLeastFortyCases() {
        #expect(Self.cases.count >= 40)
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count)
    }
}

import Foundation
import Peregrine
import Testing

/// The code of the DocC article `GettingStarted.md` (Sources/Peregrine/Peregrine.docc), kept
/// here so that it compiles against the real API and prints what the article says it prints.
/// Change both together.
struct GettingStartedTests {
    @Test func gradientTapeStep() throws {
        // --- article: "One training step by hand"
        let w = Variable(try Tensor.ones([3, 2]), name: "w")
        let b = Variable(try Tensor.zeros([1, 2]), name: "b")
        let x: Tensor = [[1, 2, 3]]
        let y: Tensor = [[4, 8]]

        let tape = GradientTape()
        let loss = try tape.recording {
            let yHat = try matmul(x, w.value) + b.value
            return try square(yHat - y).mean()
        }
        print(loss)                        // Tensor([]) 4.0

        let grads = try tape.gradient(loss, [w, b])
        print(grads[0]!)                   // Tensor([3, 2]) [[2.0, -2.0], [4.0, -4.0], [6.0, -6.0]]
        print(grads[1]!)                   // Tensor([1, 2]) [[2.0, -2.0]]

        let sgd = try SGD(learningRate: 0.1)
        try sgd.apply(grads, to: [w, b])
        print(w.value)                     // Tensor([3, 2]) [[0.8, 1.2], [0.6, 1.4], [0.39999998, 1.6]]
        print(b.value)                     // Tensor([1, 2]) [[-0.2, 0.2]]
        // --- end
        #expect(loss.description == "Tensor([]) 4.0")
        #expect(grads[0]!.description == "Tensor([3, 2]) [[2.0, -2.0], [4.0, -4.0], [6.0, -6.0]]")
        #expect(grads[1]!.description == "Tensor([1, 2]) [[2.0, -2.0]]")
        #expect(w.value.description == "Tensor([3, 2]) [[0.8, 1.2], [0.6, 1.4], [0.39999998, 1.6]]")
        #expect(b.value.description == "Tensor([1, 2]) [[-0.2, 0.2]]")
    }

    @Test func sequentialModel() throws {
        let lines = try Peregrine.withFreshSession {
            // --- article: "A Sequential model"
            let model = try Sequential {
                Input(shape: [7])
                Dense(units: 5, activation: .sigmoid)
                Dense(units: 4, activation: .sigmoid)
            }
            model.summary(lineLength: 88)
            // --- end
            return model.summaryLines(lineLength: 88)
        }
        #expect(lines == ModelSummaryTestsText.sequential)
    }

    @Test func functionalModel() throws {
        let (lines, predictions) = try Peregrine.withFreshSession {
            // --- article: "A functional model"
            let input1 = Input(shape: [2])
            let input2 = Input(shape: [5])
            let branch1 = try Dense(units: 2, activation: .sigmoid)(input1)
            let branch2 = try Dense(units: 3, activation: .sigmoid)(input2)
            let merged = try concatenate([branch1, branch2])
            let output1 = try Dense(units: 1)(merged)
            let output2 = try Dense(units: 10)(merged)
            let model = try Model(inputs: [input1, input2], outputs: [output1, output2])
            model.summary(lineLength: 108)

            let predictions = try model.predict([try Tensor.ones([4, 2]), try Tensor.ones([4, 5])])
            print(predictions.map(\.shape))   // [[4, 1], [4, 10]]
            // --- end
            return (model.summaryLines(lineLength: 108), predictions)
        }
        #expect(lines == ModelSummaryTestsText.functional)
        #expect(predictions.map(\.shape) == [[4, 1], [4, 10]])
    }

    /// The article's training code, on 256 images for one epoch so that the test stays fast.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory.path)))
    func trainingOnFashionMNIST() throws {
        let limit = 256, epochs = 1
        // --- article: "Training on Fashion-MNIST" (with limit: nil and epochs: 2)
        RandomGenerator.setSeed(0)
        let (x, y) = try FashionMNIST.load(split: .train, limit: limit)        // [N, 28, 28, 1], [N]
        let (xTest, yTest) = try FashionMNIST.load(split: .test, limit: limit)

        let model = try Sequential(name: "cnn") {
            Input(shape: [28, 28, 1])
            Conv2D(filters: 32, kernelSize: (3, 3), activation: .relu)
            MaxPooling2D()
            Conv2D(filters: 64, kernelSize: (3, 3), activation: .relu)
            MaxPooling2D()
            Flatten()
            Dense(units: 128, activation: .relu)
            Dropout(rate: 0.5)
            Dense(units: 10)
        }
        try model.compile(
            optimizer: try Adam(learningRate: 1e-3),
            loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        let history = try model.fit(x, y, batchSize: 128, epochs: epochs, verbose: .silent, validationSplit: 0.1)
        print(history.history["loss"]!)
        let results = try model.evaluate(xTest, yTest, batchSize: 256, verbose: .silent)
        print(results["accuracy"]!)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-\(UUID().uuidString).safetensors")
        try model.save(to: url)
        let restored = try Model.load(from: url)
        // --- end
        #expect(history.history["loss"]!.count == epochs)
        #expect(ModelSaveTests.samePredictions(try restored.predict(xTest), try model.predict(xTest)))
    }
}

extension GettingStartedTests {
    /// The article's training code verbatim (full data, two epochs): compiled, not run.
    static func articleTrainingCode() throws {
        RandomGenerator.setSeed(0)
        let (x, y) = try FashionMNIST.load(split: .train)             // [60000, 28, 28, 1], [60000]
        let (xTest, yTest) = try FashionMNIST.load(split: .test)

        let model = try Sequential(name: "cnn") {
            Input(shape: [28, 28, 1])
            Conv2D(filters: 32, kernelSize: (3, 3), activation: .relu)
            MaxPooling2D()
            Conv2D(filters: 64, kernelSize: (3, 3), activation: .relu)
            MaxPooling2D()
            Flatten()
            Dense(units: 128, activation: .relu)
            Dropout(rate: 0.5)
            Dense(units: 10)
        }
        try model.compile(
            optimizer: try Adam(learningRate: 1e-3),
            loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        let history = try model.fit(x, y, batchSize: 128, epochs: 2, validationSplit: 0.1)
        print(history.history["loss"]!)
        let results = try model.evaluate(xTest, yTest, batchSize: 256)
        print(results["accuracy"]!)

        let url = URL(fileURLWithPath: "cnn.safetensors")
        try model.save(to: url)
        let restored = try Model.load(from: url)
        _ = restored
    }
}

/// The summaries the article shows, as Keras prints them. ModelSummaryTests checks the
/// Sequential one too; the functional one here is printed in a fresh session, so its names
/// start at zero (ModelSummaryTests checks the `functional_2` variant).
enum ModelSummaryTestsText {
    static let sequential = """
        Model: "sequential"
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
        ┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
        │ dense (Dense)                        │ (None, 5)                   │              40 │
        ├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
        │ dense_1 (Dense)                      │ (None, 4)                   │              24 │
        └──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
         Total params: 64 (256.00 B)
         Trainable params: 64 (256.00 B)
         Non-trainable params: 0 (0.00 B)
        """.components(separatedBy: "\n")

    static let functional = """
        Model: "functional"
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
        ┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
        │ input_layer (InputLayer)      │ (None, 2)                 │               0 │ -                          │
        ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
        │ input_layer_1 (InputLayer)    │ (None, 5)                 │               0 │ -                          │
        ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
        │ dense (Dense)                 │ (None, 2)                 │               6 │ input_layer[0][0]          │
        ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
        │ dense_1 (Dense)               │ (None, 3)                 │              18 │ input_layer_1[0][0]        │
        ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
        │ concatenate (Concatenate)     │ (None, 5)                 │               0 │ dense[0][0], dense_1[0][0] │
        ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
        │ dense_2 (Dense)               │ (None, 1)                 │               6 │ concatenate[0][0]          │
        ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
        │ dense_3 (Dense)               │ (None, 10)                │              60 │ concatenate[0][0]          │
        └───────────────────────────────┴───────────────────────────┴─────────────────┴────────────────────────────┘
         Total params: 90 (360.00 B)
         Trainable params: 90 (360.00 B)
         Non-trainable params: 0 (0.00 B)
        """.components(separatedBy: "\n")
}

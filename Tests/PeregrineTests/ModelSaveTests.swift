import Foundation
@testable import Peregrine
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whole-model save/load (architecture + weights in one safetensors file), layer configs, and
/// the public JSON type.
struct ModelSaveTests {
    // MARK: - Helpers

    /// Every weight set to distinct seeded values (moving variances positive), so a round trip
    /// that mixed up, dropped or re-initialised any weight would show.
    static func randomizeWeights(_ model: Model, seed: UInt64) throws {
        for (index, variable) in model.weights.enumerated() {
            try variable.assign(
                try Tensor.randomUniform(variable.shape, lowerBound: 0.1, upperBound: 0.9, seed: seed &+ UInt64(index)))
        }
    }

    /// Saves, loads, and checks: same class, layer names and classes, weights bit for bit (paths,
    /// trainable flags, values), and identical predictions.
    static func roundTrip(_ model: Model, _ inputs: [Tensor]) throws -> Model {
        let url = try DataTests.temporaryDirectory().appendingPathComponent("model.safetensors")
        try model.save(to: url)
        let loaded = try Model.load(from: url)
        #expect(type(of: loaded) == type(of: model))
        #expect(loaded.name == model.name)
        #expect(loaded.layers.map(\.name) == model.layers.map(\.name))
        #expect(loaded.layers.map { type(of: $0).kerasClassName } == model.layers.map { type(of: $0).kerasClassName })
        #expect(loaded.weights.map(\.path) == model.weights.map(\.path))
        #expect(loaded.weights.map(\.trainable) == model.weights.map(\.trainable))
        #expect(loaded.weights.count == model.weights.count)
        for (a, b) in zip(loaded.weights, model.weights) {
            #expect(a.value.scalars.map(\.bitPattern) == b.value.scalars.map(\.bitPattern), "\(a.path)")
        }
        let before = try model(inputs), after = try loaded(inputs)
        #expect(before.count == after.count)
        for (x, y) in zip(before, after) {
            #expect(x.shape == y.shape)
            #expect(samePredictions(x, y), "\(x) vs \(y)")
        }
        // Saving the loaded model gives the same architecture text.
        #expect(try loaded.kerasArchitecture() == model.kerasArchitecture())
        return loaded
    }

    /// Equal predictions. Bit for bit in a run of their own; but `swift test` runs the kernel
    /// sweeps of CKernelsTests in the same process, which switch the global ISA and thread count
    /// (other summation orders) at any moment, so a few ulps are allowed. The weights above are
    /// compared bit for bit, and a weight lost or mixed up changes outputs by far more.
    static func samePredictions(_ a: Tensor, _ b: Tensor) -> Bool {
        a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { x, y in
            x.bitPattern == y.bitPattern || abs(x - y) <= 1e-5 * max(1, abs(x))
        }
    }

    // MARK: - Round trips

    @Test func sequentialMLPRoundTrips() throws {
        let model = try Sequential {
            Input(shape: [7])
            Dense(units: 5, activation: .sigmoid)
            Dropout(rate: 0.25, seed: 9)
            Dense(units: 4, activation: .leakyRelu(negativeSlope: 0.1), useBias: false)
        }
        try Self.randomizeWeights(model, seed: 1)
        let loaded = try Self.roundTrip(model, [try Tensor.randomUniform([3, 7], lowerBound: -1, upperBound: 1, seed: 2)])
        let last = try #require(loaded.layers.last as? Dense)
        #expect(last.activation == .leakyRelu(negativeSlope: 0.1) && !last.useBias)
        let dropout = try #require(loaded.layers[1] as? Dropout)
        #expect(dropout.rate == 0.25 && dropout.seed == 9)
    }

    @Test func sequentialCNNWithBatchNormalizationRoundTrips() throws {
        let model = try Sequential {
            Input(shape: [8, 8, 2])
            Conv2D(filters: 4, kernelSize: (3, 3), strides: (1, 1), padding: .same, activation: .relu)
            BatchNormalization(momentum: 0.9, epsilon: 1e-5)
            MaxPooling2D(poolSize: (2, 2))
            Conv2D(filters: 3, kernelSize: (2, 2), dilationRate: (1, 1))
            AveragePooling2D(poolSize: (2, 2), strides: (1, 1), padding: .same)
            GlobalAveragePooling2D()
            Dense(units: 3, activation: .softmax)
        }
        try Self.randomizeWeights(model, seed: 10)
        #expect(!model.nonTrainableWeights.isEmpty)   // moving mean and variance are saved too
        let loaded = try Self.roundTrip(model, [try Tensor.randomUniform([2, 8, 8, 2], lowerBound: -1, upperBound: 1, seed: 3)])
        let bn = try #require(loaded.layers[1] as? BatchNormalization)
        #expect(bn.momentum == 0.9 && bn.epsilon == 1e-5)
        #expect(loaded.nonTrainableWeights.map(\.path) == model.nonTrainableWeights.map(\.path))
    }

    @Test func functionalTwoInputsTwoOutputsRoundTrips() throws {
        let model = try ModelSummaryTests.functionalExample()
        try Self.randomizeWeights(model, seed: 20)
        let a = try Tensor.randomUniform([4, 2], lowerBound: -1, upperBound: 1, seed: 4)
        let b = try Tensor.randomUniform([4, 5], lowerBound: -1, upperBound: 1, seed: 5)
        let loaded = try Self.roundTrip(model, [a, b])
        #expect(loaded.inputs.map(\.shape) == [[2], [5]])
        #expect(loaded.outputs.map(\.shape) == [[1], [10]])
    }

    @Test func functionalSharedLayerRoundTrips() throws {
        // One Dense called on both inputs (two nodes), a Reshape/Flatten pair, Add and an
        // Activation layer: the loaded model must call the shared layer twice with one kernel.
        let left = Input(shape: [6]), right = Input(shape: [6])
        let shared = Dense(units: 4, activation: .tanh)
        let l = try shared(left), r = try shared(right)
        let summed = try add([l, r])
        let reshaped = try Flatten()(try Reshape(targetShape: [2, 2])(summed))
        let output = try Activation(.gelu(approximate: true))(try Dense(units: 2)(reshaped))
        let model = try Model(inputs: [left, right], outputs: [output, l])
        try Self.randomizeWeights(model, seed: 30)
        let x = try Tensor.randomUniform([3, 6], lowerBound: -1, upperBound: 1, seed: 6)
        let y = try Tensor.randomUniform([3, 6], lowerBound: -1, upperBound: 1, seed: 7)
        let loaded = try Self.roundTrip(model, [x, y])
        #expect(loaded.weights.count == 4)   // the shared kernel and bias once
        let architecture = try loaded.kerasArchitecture()
        let sharedEntry = architecture["config"]?["layers"]?.array?.first { $0["name"]?.string == shared.name }
        #expect(sharedEntry?["inbound_nodes"]?.array?.count == 2)
    }

    @Test func recurrentModelRoundTrips() throws {
        let model = try Sequential {
            Input(shape: [5, 3])
            LSTM(units: 4, returnSequences: true)
            GRU(units: 3, goBackwards: true, resetAfter: false)
            Dense(units: 2)
        }
        try Self.randomizeWeights(model, seed: 40)
        let loaded = try Self.roundTrip(model, [try Tensor.randomUniform([2, 5, 3], lowerBound: -1, upperBound: 1, seed: 8)])
        let gru = try #require(loaded.layers[1] as? GRU)
        #expect(!gru.resetAfter && gru.goBackwards)
    }

    @Test func embeddingAndSimpleRNNRoundTrip() throws {
        let model = try Sequential { Input(shape: [4]); Embedding(inputDim: 10, outputDim: 3); SimpleRNN(units: 2) }
        try Self.randomizeWeights(model, seed: 50)
        _ = try Self.roundTrip(model, [try Tensor(shape: [2, 4], scalars: [1, 2, 3, 9, 0, 4, 5, 6])])
    }

    @Test func sequentialBuiltByItsFirstBatchRoundTrips() throws {
        let model = try Sequential([Dense(units: 3), Dense(units: 2)])
        _ = try model(try Tensor.ones([1, 4]))
        try Self.randomizeWeights(model, seed: 60)
        let loaded = try Self.roundTrip(model, [try Tensor.randomUniform([2, 4], lowerBound: -1, upperBound: 1, seed: 9)])
        #expect(loaded.isBuilt)
    }

    // MARK: - Errors

    @Test func truncatedFileThrowsNamingTheFile() throws {
        let url = try DataTests.temporaryDirectory().appendingPathComponent("model.safetensors")
        let model = try ModelSummaryTests.sequentialExample()
        try model.save(to: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 10).write(to: url)
        let message = DataTests.message { _ = try Model.load(from: url) }
        #expect(message.contains(url.path) && message.contains("SafeTensors.read"), "\(message)")
    }

    @Test func weightsOnlyFileThrowsAskingForTheArchitecture() throws {
        let url = try DataTests.temporaryDirectory().appendingPathComponent("weights.safetensors")
        let model = try ModelSummaryTests.sequentialExample()
        try model.saveWeights(to: url)
        let message = DataTests.message { _ = try Model.load(from: url) }
        #expect(message.hasPrefix("Model.load '\(url.path)'"), "\(message)")
        #expect(message.contains("peregrine_model") && message.contains("loadWeights"), "\(message)")
    }

    @Test func corruptArchitectureThrowsNamingClassAndKey() throws {
        let dir = try DataTests.temporaryDirectory()
        let model = try ModelSummaryTests.sequentialExample()
        let tensors = model.weights.map { ($0.path, $0.untrackedValue) }
        func load(_ architecture: String) throws -> String {
            let url = dir.appendingPathComponent("\(UUID().uuidString).safetensors")
            try SafeTensors.write(tensors, metadata: [Model.architectureMetadataKey: architecture], to: url)
            return DataTests.message { _ = try Model.load(from: url) }
        }
        let good = try model.kerasArchitecture().serialized
        #expect(try load("{not json").contains("valid JSON"))
        let unknown = try load(good.replacingOccurrences(of: "\"Dense\"", with: "\"Dense3D\""))
        #expect(unknown.contains("'Dense3D'"), "\(unknown)")
        let badUnits = try load(good.replacingOccurrences(of: "\"units\":5", with: "\"units\":\"five\""))
        #expect(badUnits.contains("Dense config 'units'") && badUnits.contains("five"), "\(badUnits)")
        let badActivation = try load(good.replacingOccurrences(of: "\"sigmoid\"", with: "\"sigmoidal\""))
        #expect(badActivation.contains("Dense config 'activation'") && badActivation.contains("sigmoidal"), "\(badActivation)")
        let wrongShape = try load(good.replacingOccurrences(of: "\"units\":5", with: "\"units\":6"))
        #expect(wrongShape.contains("shape [7, 6]"), "\(wrongShape)")
        let badClass = try load(good.replacingOccurrences(of: "\"Sequential\"", with: "\"Pipeline\""))
        #expect(badClass.contains("\"Pipeline\""), "\(badClass)")
    }

    @Test func failedSaveLeavesThePreviousFile() throws {
        let dir = try DataTests.temporaryDirectory()
        let url = dir.appendingPathComponent("model.safetensors")
        let model = try ModelSummaryTests.sequentialExample()
        try model.save(to: url)
        let previous = try Data(contentsOf: url)
        try Self.randomizeWeights(model, seed: 70)

        // Killed between writing the temporary file and the rename.
        struct Killed: Error {}
        #expect(throws: Killed.self) { try model.save(to: url) { _ in throw Killed() } }
        #expect(try Data(contentsOf: url) == previous)

        // A model that cannot be described fails before touching the file.
        final class Custom: Layer, @unchecked Sendable {}
        let custom = try Sequential([InputLayer(shape: [2]), Custom()])
        let message = DataTests.message { try custom.save(to: url) }
        #expect(message.contains("kerasConfig") && message.contains("Custom"), "\(message)")
        #expect(try Data(contentsOf: url) == previous)

        // An unwritable directory (root writes anyway, so only checked for other users).
        if getuid() != 0 {
            chmod(dir.path, 0o555)
            defer { chmod(dir.path, 0o755) }
            let unwritable = DataTests.message { try model.save(to: url) }
            #expect(unwritable.contains("AtomicFile.write"), "\(unwritable)")
            #expect(try Data(contentsOf: url) == previous)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }.isEmpty)
    }

    // MARK: - Layer configs and JSON

    @Test func everyLayerConfigRoundTrips() throws {
        let layers: [Layer] = [
            InputLayer(shape: [4, 4, 1]), Dense(units: 3, activation: .elu(alpha: 0.5)),
            Conv2D(filters: 2, kernelSize: (3, 1), strides: (2, 1), padding: .same, dilationRate: (1, 1), groups: 1),
            MaxPooling2D(poolSize: (3, 3), strides: (1, 2), padding: .same), AveragePooling2D(poolSize: (2, 2)),
            GlobalAveragePooling2D(keepDims: true), GlobalMaxPooling2D(),
            BatchNormalization(axis: -1, momentum: 0.95, epsilon: 0.002, center: false, scale: true),
            Dropout(rate: 0.3), Embedding(inputDim: 7, outputDim: 2, maskZero: true), Flatten(),
            Reshape(targetShape: [2, -1]), Activation(.hardSigmoid), Concatenate(axis: 1), Add(),
            SimpleRNN(units: 2, activation: .relu, returnState: true),
            LSTM(units: 3, unitForgetBias: false, goBackwards: true), GRU(units: 2, returnSequences: true),
        ]
        #expect(Set(layers.map { type(of: $0).kerasClassName }) == Set(Layer.configurableClassNames))
        for layer in layers {
            layer.trainable = false
            let config = try layer.kerasConfig()
            let copy = try Layer.fromKerasConfig(className: type(of: layer).kerasClassName, config: config)
            #expect(type(of: copy) == type(of: layer))
            #expect(copy.name == layer.name && !copy.trainable)
            #expect(try copy.kerasConfig() == config, "\(config)")
        }
        #expect(try Dense(units: 64, activation: .relu, name: "hidden").kerasConfig().serialized
            == #"{"name":"hidden","trainable":true,"units":64,"activation":"relu","use_bias":true}"#)
    }

    @Test func badConfigsThrowNamingClassAndKey() throws {
        func message(_ className: String, _ config: String) -> String {
            DataTests.message { _ = try Layer.fromKerasConfig(className: className, config: try JSONValue(parsing: config)) }
        }
        #expect(message("Dense", "{}") == "Dense config 'units': expected a positive integer (required), got no value")
        #expect(message("Dense", #"{"units": 0}"#).contains("Dense config 'units'"))
        #expect(message("Conv2D", #"{"filters": 2, "kernel_size": [3]}"#).contains("Conv2D config 'kernel_size'"))
        #expect(message("Conv2D", #"{"filters": 2, "kernel_size": 3, "padding": "full"}"#).contains("Conv2D config 'padding'"))
        #expect(message("MaxPooling2D", #"{"data_format": "channels_first"}"#).contains("'data_format'"))
        #expect(message("LSTM", #"{"units": 2, "return_sequences": "yes"}"#).contains("LSTM config 'return_sequences'"))
        #expect(message("Dropout", #"{"rate": 1.5}"#).contains("Dropout config 'rate'"))
        #expect(message("Dense", "[1]").contains("Dense config: expected a JSON object"))
        #expect(message("Attention", "{}").contains("'Attention'"))
    }

    @Test func jsonValueParsesReadsAndWrites() throws {
        let text = #"{"units": 64, "rate": 0.99, "big": 123456789012345678, "name": "a\"b\n", "list": [1, null, true], "empty": {}}"#
        let value = try JSONValue(parsing: text)
        #expect(value["units"]?.int == 64 && value["units"]?.number == 64)
        #expect(value["rate"]?.number == 0.99 && value["rate"]?.int == nil)
        #expect(value["big"]?.int == 123456789012345678)   // exact: no trip through Double
        #expect(value["name"]?.string == "a\"b\n")
        #expect(value["list"]?[1]?.isNull == true && value["list"]?[2]?.bool == true && value["list"]?[3] == nil)
        #expect(value["list"]?.array?.count == 3 && value["missing"] == nil && value[0] == nil)
        #expect(value.members?.map(\.key) == ["units", "rate", "big", "name", "list", "empty"])
        #expect(try JSONValue(parsing: value.serialized) == value)
        #expect(value.serialized == #"{"units":64,"rate":0.99,"big":123456789012345678,"name":"a\"b\n","list":[1,null,true],"empty":{}}"#)
        let built: JSONValue = ["a": 1, "b": [true, nil, "x"], "c": 0.5]
        #expect(built.serialized == #"{"a":1,"b":[true,null,"x"],"c":0.5}"#)
        #expect(JSONValue(Float(0.99)).serialized == "0.99" && JSONValue(Float.nan) == .null)
        let error = DataTests.message { _ = try JSONValue(parsing: #"{"a": 1,}"#) }
        #expect(error.hasPrefix("JSON: expected valid JSON") && error.contains("byte 8"), "\(error)")
    }
}

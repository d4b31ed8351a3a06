import CKernels
import Testing

@testable import Peregrine

/// Conv2D, the poolings and BatchNormalization: numerical gradient checks (inputs and weights),
/// Keras's shapes, names and `same` split, and the configuration errors.
struct ConvolutionLayerTests {
    typealias Check = GradientCheckTests

    /// Distinct values spaced 0.05 apart in a shuffled order: a ±1e-2 step never changes which
    /// cell of a max window wins.
    static func distinct(_ shape: [Int], seed: UInt64) throws -> Tensor {
        let count = shape.reduce(1, *)
        let keys = try Check.random([count], seed: seed).scalars
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        var values = [Float](repeating: 0, count: count)
        for (rank, index) in order.enumerated() { values[index] = Float(rank) * 0.05 - Float(count) * 0.025 }
        return try Tensor(shape: shape, scalars: values)
    }

    // MARK: - Conv2D

    @Test(arguments: [
        (kernel: 3, stride: 1, dilation: 1, padding: Padding.valid, groups: 1),
        (kernel: 3, stride: 2, dilation: 1, padding: .same, groups: 1),
        (kernel: 2, stride: 1, dilation: 2, padding: .same, groups: 1),
        (kernel: 3, stride: 1, dilation: 1, padding: .same, groups: 2),
        (kernel: 1, stride: 1, dilation: 1, padding: .valid, groups: 1),
    ])
    func conv2DGradients(config: (kernel: Int, stride: Int, dilation: Int, padding: Padding, groups: Int)) throws {
        let layer = Conv2D(
            filters: 4, kernelSize: config.kernel, strides: config.stride, padding: config.padding,
            dilationRate: config.dilation, groups: config.groups, activation: .tanh)
        let x = try Check.random([2, 5, 6, 4], seed: 21)
        _ = try layer(x)
        let w = layer.kernel!.value, b = try Check.random([4], seed: 22, in: -0.5...0.5)
        let shape = try layer.geometry(inputShape: [5, 6, 4], batch: 2)
        let label = "conv k\(config.kernel) s\(config.stride) d\(config.dilation) \(config.padding) g\(config.groups)"
        try Check.check(label, [x, w, b]) {
            Conv2D.convolution($0[0], $0[1], $0[2], shape, activation: CK_ACT_TANH, name: "conv")
        }
        // and through the layer, as training sees it
        try Check.check("\(label) layer input", [x]) { try layer($0[0]) }
    }

    @Test func conv2DWeightsFollowKeras() throws {
        let layer = Conv2D(filters: 6, kernelSize: (3, 2), groups: 3)
        let y = try layer(try Tensor.ones([2, 7, 5, 9]))
        #expect(y.shape == [2, 5, 4, 6])
        #expect(layer.weights.map(\.name) == ["kernel", "bias"])
        #expect(layer.kernel?.shape == [3, 2, 3, 6])
        #expect(layer.countParams() == 3 * 2 * 3 * 6 + 6)
        #expect(Conv2D.kerasClassName == "Conv2D")
        // glorot-uniform with fans counting the receptive field: limit = √(6 / (18 + 36))
        let limit = (6.0 / Float(3 * 2 * 3 + 3 * 2 * 6)).squareRoot()
        #expect(layer.kernel!.value.scalars.allSatisfy { abs($0) <= limit })
        #expect(try layer.outputShapes(forInputShapes: [[7, 5, 9]]) == [[5, 4, 6]])
    }

    /// KERAS_SPEC: in=5, k=2, s=1 pads (0, 1); k=4, s=2 pads (1, 2); in=4, k=3, s=2 pads (0, 1).
    @Test func samePaddingSplitsAsTensorFlow() {
        #expect(Padding.same.outputLength(input: 5, window: 2, stride: 1) == (5, 0, 1))
        #expect(Padding.same.outputLength(input: 5, window: 4, stride: 2) == (3, 1, 2))
        #expect(Padding.same.outputLength(input: 5, window: 2, stride: 2) == (3, 0, 1))
        #expect(Padding.same.outputLength(input: 4, window: 3, stride: 2) == (2, 0, 1))
        #expect(Padding.valid.outputLength(input: 5, window: 3, stride: 2) == (2, 0, 0))
    }

    @Test func conv2DConfigurationErrorsThrow() throws {
        let x = try Tensor.ones([1, 5, 5, 4])
        #expect(throws: PeregrineError.self) { try Conv2D(filters: 2, kernelSize: 3, strides: 2, dilationRate: 2)(x) }
        #expect(throws: PeregrineError.self) { try Conv2D(filters: 2, kernelSize: 7)(x) }
        #expect(throws: PeregrineError.self) { try Conv2D(filters: 2, kernelSize: 3, dilationRate: 3)(x) }
        #expect(throws: PeregrineError.self) { try Conv2D(filters: 3, kernelSize: 3, groups: 2)(x) }
        #expect(throws: PeregrineError.self) { try Conv2D(filters: 4, kernelSize: 3, groups: 3)(x) }
        #expect(throws: PeregrineError.self) { try Conv2D(filters: 2, kernelSize: 3)(try Tensor.ones([5, 5, 4])) }
        #expect(throws: PeregrineError.self) { try Conv2D(filters: 0, kernelSize: 3)(x) }
        let layer = Conv2D(filters: 2, kernelSize: 3, padding: .same)
        _ = try layer(x)
        #expect(throws: PeregrineError.self) { try layer(try Tensor.ones([1, 5, 5, 3])) }
        // same padding accepts a kernel larger than the input
        #expect(try Conv2D(filters: 2, kernelSize: 7, padding: .same)(x).shape == [1, 5, 5, 2])
    }

    // MARK: - Pooling

    @Test func poolingGradients() throws {
        let x = try Self.distinct([2, 5, 6, 3], seed: 31)
        for padding in [Padding.valid, .same] {
            try Check.check("max 2x2 \(padding)", [x]) { try MaxPooling2D(poolSize: (2, 2), padding: padding)($0[0]) }
            try Check.check("max 3x3/1 \(padding)", [x]) {
                try MaxPooling2D(poolSize: (3, 3), strides: (1, 1), padding: padding)($0[0])
            }
            try Check.check("avg 2x3 \(padding)", [x]) {
                try AveragePooling2D(poolSize: (2, 3), strides: (2, 1), padding: padding)($0[0])
            }
        }
        try Check.check("global avg", [x]) { try GlobalAveragePooling2D()($0[0]) }
        try Check.check("global max", [x]) { try GlobalMaxPooling2D(keepDims: true)($0[0]) }
    }

    @Test func poolingFollowsKeras() throws {
        let x = try Tensor(shape: [1, 3, 3, 1], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(try AveragePooling2D(poolSize: (2, 2), padding: .same)(x).scalars == [3, 4.5, 7.5, 9])
        #expect(try MaxPooling2D(padding: .same)(x).scalars == [5, 6, 8, 9])
        let pool = MaxPool2D()
        #expect(pool.name.hasPrefix("max_pooling2d"))
        #expect(MaxPooling2D.kerasClassName == "MaxPooling2D")
        #expect(pool.strides == (2, 2))
        #expect(try GlobalAveragePooling2D()(x).shape == [1, 1])
        #expect(try GlobalMaxPooling2D(keepDims: true)(x).scalars == [9])
        #expect(try GlobalAveragePooling2D(keepDims: true)(x).shape == [1, 1, 1, 1])
        #expect(throws: PeregrineError.self) { try MaxPooling2D(poolSize: (4, 4))(x) }
        #expect(throws: PeregrineError.self) { try AveragePooling2D(poolSize: (2, 2))(try Tensor.ones([3, 3])) }
        #expect(throws: PeregrineError.self) { try GlobalMaxPooling2D()(try Tensor.ones([3, 3, 1])) }
    }

    // MARK: - BatchNormalization

    @Test func batchNormalizationGradients() throws {
        for shape in [[6, 3], [2, 3, 2, 4]] {
            let c = shape.last!
            let x = try Check.random(shape, seed: 41)
            let gamma = try Check.random([c], seed: 42, in: 0.5...1.5), beta = try Check.random([c], seed: 43)
            let mean = try Check.random([c], seed: 44), variance = try Check.random([c], seed: 45, in: 0.5...2)
            try Check.check("bn training \(shape)", [x, gamma, beta]) {
                BatchNormalization.normalizeWithBatchStatistics($0[0], gamma: $0[1], beta: $0[2], epsilon: 1e-3, name: "bn").0
            }
            try Check.check("bn inference \(shape)", [x, gamma, beta]) {
                BatchNormalization.normalize(
                    $0[0], gamma: $0[1], beta: $0[2], mean: mean, variance: variance, epsilon: 1e-3, name: "bn")
            }
            try Check.check("bn layer \(shape)", [x]) { try BatchNormalization(center: false)($0[0], training: true) }
        }
    }

    @Test func batchNormalizationStateFollowsKeras() throws {
        let bn = BatchNormalization()
        // column variance 4 (biased), mean 1: moving_var 1·0.99 + 4·0.01 = 1.03, moving_mean 0.01
        let x = try Tensor(shape: [2, 1], scalars: [-1, 3])
        let y = try bn(x, training: true)
        #expect(bn.weights.map(\.name) == ["gamma", "beta", "moving_mean", "moving_variance"])
        #expect(bn.weights.map(\.trainable) == [true, true, false, false])
        #expect(abs(bn.movingMean!.value.scalars[0] - 0.01) < 1e-7)
        #expect(abs(bn.movingVariance!.value.scalars[0] - 1.03) < 1e-6)
        #expect(abs(y.scalars[0] + 2 / (4 + 1e-3 as Float).squareRoot()) < 1e-5)
        // inference leaves the statistics alone; a frozen layer ignores training: true
        _ = try bn(x)
        #expect(abs(bn.movingMean!.value.scalars[0] - 0.01) < 1e-7)
        bn.trainable = false
        let frozen = try bn(x, training: true)
        #expect(abs(bn.movingMean!.value.scalars[0] - 0.01) < 1e-7)
        #expect(abs(frozen.scalars[1] - (3 - 0.01) / (1.03 + 1e-3 as Float).squareRoot()) < 1e-5)
        #expect(bn.trainableWeights.isEmpty && bn.nonTrainableWeights.count == 4)
        #expect(BatchNormalization(center: false, scale: false).name.hasPrefix("batch_normalization"))
        #expect(throws: PeregrineError.self) { try BatchNormalization(axis: 1)(try Tensor.ones([2, 3, 4])) }
        #expect(throws: PeregrineError.self) { try bn(try Tensor.ones([2, 2])) }
    }
}

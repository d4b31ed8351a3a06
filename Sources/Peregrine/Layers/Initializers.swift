import CKernels

/// How a layer fills a new weight: Keras's initializers, with its exact formulas (KERAS_SPEC §1),
/// drawing from ``RandomGenerator``. `Initializer(named:)` reads Keras's names.
///
/// ```swift
/// let dense = Dense(units: 64, kernelInitializer: .heUniform, biasInitializer: .zeros)
/// ```
public struct Initializer: Sendable {
    /// Keras's name for it, e.g. `glorot_uniform` (used in saved configs).
    public let name: String
    let make: @Sendable (_ shape: [Int]) throws -> Tensor

    /// An initializer from a closure that builds a tensor of the requested shape.
    ///
    /// ```swift
    /// let halves = Initializer(name: "halves") { try Tensor.full($0, value: 0.5) }
    /// ```
    public init(name: String, _ make: @escaping @Sendable (_ shape: [Int]) throws -> Tensor) {
        self.name = name
        self.make = make
    }

    /// A new tensor of `shape`.
    ///
    /// ```swift
    /// let w = try Initializer.glorotUniform([784, 128])
    /// ```
    public func callAsFunction(_ shape: [Int]) throws -> Tensor { try make(shape) }

    /// Keras's `compute_fans`: fan-in and fan-out of a weight shape (conv kernels count their
    /// receptive field).
    ///
    /// ```swift
    /// Initializer.fans([3, 3, 16, 32])   // (144, 288)
    /// ```
    public static func fans(_ shape: [Int]) -> (fanIn: Double, fanOut: Double) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (Double(shape[0]), Double(shape[0]))
        case 2: return (Double(shape[0]), Double(shape[1]))
        default:
            let receptive = Double(shape.dropLast(2).reduce(1, *))
            return (Double(shape[shape.count - 2]) * receptive, Double(shape[shape.count - 1]) * receptive)
        }
    }

    /// All zeros.
    public static let zeros = Initializer(name: "zeros") { try Tensor.zeros($0) }
    /// All ones.
    public static let ones = Initializer(name: "ones") { try Tensor.ones($0) }

    /// U(−limit, limit) with limit = √(6 / (fan_in + fan_out)): the default for kernels.
    public static let glorotUniform = Initializer(name: "glorot_uniform") { shape in
        let (fanIn, fanOut) = fans(shape)
        let limit = Float((6 / Swift.max(1, fanIn + fanOut)).squareRoot())
        return RandomGenerator.uniform(shape, low: -limit, high: limit)
    }

    /// U(−limit, limit) with limit = √(6 / fan_in).
    public static let heUniform = varianceScaling(scale: 2, mode: .fanIn, distribution: .uniform, name: "he_uniform")
    /// Normal with stddev √(2 / fan_in), truncated at ±2σ (Keras's `he_normal`).
    public static let heNormal = varianceScaling(scale: 2, mode: .fanIn, distribution: .truncatedNormal, name: "he_normal")
    /// U(−limit, limit) with limit = √(3 / fan_in).
    public static let lecunUniform = varianceScaling(scale: 1, mode: .fanIn, distribution: .uniform, name: "lecun_uniform")
    /// Normal with stddev √(1 / fan_in), truncated at ±2σ.
    public static let lecunNormal = varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal, name: "lecun_normal")
    /// Normal with stddev √(2 / (fan_in + fan_out)), truncated at ±2σ.
    public static let glorotNormal = varianceScaling(scale: 1, mode: .fanAvg, distribution: .truncatedNormal, name: "glorot_normal")
    /// Keras's `"uniform"`: U(−0.05, 0.05) (Embedding's default).
    public static let uniform = randomUniform(min: -0.05, max: 0.05, name: "uniform")
    /// Keras's `"normal"`: N(0, 0.05).
    public static let normal = randomNormal(mean: 0, stddev: 0.05, name: "normal")

    /// Which fan ``varianceScaling(scale:mode:distribution:name:)`` divides by.
    public enum FanMode: String, Sendable {
        /// fan_in
        case fanIn = "fan_in"
        /// fan_out
        case fanOut = "fan_out"
        /// (fan_in + fan_out) / 2
        case fanAvg = "fan_avg"
    }

    /// The distribution ``varianceScaling(scale:mode:distribution:name:)`` draws from.
    public enum Distribution: String, Sendable {
        /// N(0, √s / 0.87962566103423978) truncated at ±2σ: the truncation shrinks the variance
        /// by 0.8796², which the division restores, so the variance is s.
        case truncatedNormal = "truncated_normal"
        /// N(0, √s).
        case untruncatedNormal = "untruncated_normal"
        /// U(−√(3s), √(3s)).
        case uniform
    }

    /// Keras's `VarianceScaling`: s = scale / max(1, n) with n the fan `mode` picks, then a
    /// draw of variance s from `distribution`. Every fan-based initializer is one of these.
    ///
    /// ```swift
    /// let init = Initializer.varianceScaling(scale: 2, mode: .fanOut, distribution: .untruncatedNormal)
    /// ```
    public static func varianceScaling(
        scale: Double = 1, mode: FanMode = .fanIn, distribution: Distribution = .truncatedNormal,
        name: String = "variance_scaling"
    ) -> Initializer {
        Initializer(name: name) { shape in
            guard scale > 0 else {
                throw PeregrineError.invalidArgument(
                    operation: "\(name) initializer", expected: "scale > 0", actual: "\(scale)")
            }
            let (fanIn, fanOut) = fans(shape)
            let n: Double =
                switch mode {
                case .fanIn: fanIn
                case .fanOut: fanOut
                case .fanAvg: (fanIn + fanOut) / 2
                }
            let s = scale / Swift.max(1, n)
            switch distribution {
            case .uniform:
                let limit = Float((3 * s).squareRoot())
                return RandomGenerator.uniform(shape, low: -limit, high: limit)
            case .untruncatedNormal:
                return RandomGenerator.normal(shape, mean: 0, stddev: Float(s.squareRoot()))
            case .truncatedNormal:
                return truncatedNormalSample(shape, mean: 0, stddev: Float(s.squareRoot() / 0.87962566103423978))
            }
        }
    }

    /// U(min, max) (Keras's `RandomUniform(minval=-0.05, maxval=0.05)`).
    ///
    /// ```swift
    /// let init = Initializer.randomUniform(min: -1, max: 1)
    /// ```
    public static func randomUniform(min: Float = -0.05, max: Float = 0.05, name: String = "random_uniform") -> Initializer {
        Initializer(name: name) { shape in
            guard min <= max else {
                throw PeregrineError.invalidArgument(
                    operation: "\(name) initializer", expected: "min <= max", actual: "[\(min), \(max)]")
            }
            return RandomGenerator.uniform(shape, low: min, high: max)
        }
    }

    /// N(mean, stddev) (Keras's `RandomNormal(mean=0, stddev=0.05)`).
    ///
    /// ```swift
    /// let init = Initializer.randomNormal(stddev: 0.01)
    /// ```
    public static func randomNormal(mean: Float = 0, stddev: Float = 0.05, name: String = "random_normal") -> Initializer {
        Initializer(name: name) { shape in
            guard stddev >= 0 else {
                throw PeregrineError.invalidArgument(
                    operation: "\(name) initializer", expected: "stddev >= 0", actual: "\(stddev)")
            }
            return RandomGenerator.normal(shape, mean: mean, stddev: stddev)
        }
    }

    /// N(mean, stddev) with values beyond 2·stddev redrawn (Keras's `TruncatedNormal`; no
    /// variance correction, unlike the variance-scaling family).
    ///
    /// ```swift
    /// let init = Initializer.truncatedNormal(stddev: 0.02)
    /// ```
    public static func truncatedNormal(mean: Float = 0, stddev: Float = 0.05) -> Initializer {
        Initializer(name: "truncated_normal") { shape in
            guard stddev >= 0 else {
                throw PeregrineError.invalidArgument(
                    operation: "truncated_normal initializer", expected: "stddev >= 0", actual: "\(stddev)")
            }
            return truncatedNormalSample(shape, mean: mean, stddev: stddev)
        }
    }

    /// Every element `value` (Keras's `Constant`).
    ///
    /// ```swift
    /// let forgetBias = Initializer.constant(1)
    /// ```
    public static func constant(_ value: Float) -> Initializer {
        Initializer(name: "constant") { try Tensor.full($0, value: value) }
    }

    /// The initializer Keras's string names (`kernel_initializer="he_normal"`); unknown names throw.
    ///
    /// ```swift
    /// let init = try Initializer(named: "lecun_uniform")
    /// ```
    public init(named name: String) throws {
        switch name {
        case "zeros", "Zeros": self = .zeros
        case "ones", "Ones": self = .ones
        case "glorot_uniform", "GlorotUniform": self = .glorotUniform
        case "glorot_normal", "GlorotNormal": self = .glorotNormal
        case "he_uniform", "HeUniform": self = .heUniform
        case "he_normal", "HeNormal": self = .heNormal
        case "lecun_uniform", "LecunUniform": self = .lecunUniform
        case "lecun_normal", "LecunNormal": self = .lecunNormal
        case "uniform", "random_uniform", "RandomUniform": self = .uniform
        case "normal", "random_normal", "RandomNormal": self = .normal
        case "truncated_normal", "TruncatedNormal": self = .truncatedNormal()
        case "variance_scaling", "VarianceScaling": self = .varianceScaling()
        case "orthogonal", "Orthogonal": self = .orthogonal()
        default:
            throw PeregrineError.invalidArgument(
                operation: "initializer",
                expected: "a Keras initializer name (zeros, ones, glorot_uniform, glorot_normal, he_uniform, "
                    + "he_normal, lecun_uniform, lecun_normal, uniform, normal, truncated_normal, "
                    + "variance_scaling, orthogonal)",
                actual: "'\(name)'")
        }
    }

    /// Draws from the global stream through `ck_random_truncated_normal`.
    static func truncatedNormalSample(_ shape: [Int], mean: Float, stddev: Float) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let (seed, offset) = RandomGenerator.reserve(result.scalarCount)
        ck_random_truncated_normal(Int64(result.scalarCount), seed, offset, mean, stddev, result.pointer)
        return result
    }
}

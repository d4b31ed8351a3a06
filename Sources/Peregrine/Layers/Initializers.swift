/// How a layer fills a new weight: Keras's initializers, with its exact formulas (KERAS_SPEC §1),
/// drawing from ``RandomGenerator``.
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
}

/// Reshapes each sample to `targetShape` (without the batch axis; one entry may be −1, inferred
/// from the others), as Keras's `Reshape`. A view of the same storage, no copy.
///
/// ```swift
/// let y = try Reshape(targetShape: [-1, 4])(try Tensor.zeros([2, 3, 4]))   // [2, 3, 4]
/// ```
public final class Reshape: Layer, @unchecked Sendable {
    /// The per-sample output shape, possibly with one −1.
    public let targetShape: [Int]

    /// A `Reshape` layer to `targetShape` (per sample).
    ///
    /// ```swift
    /// let layer = Reshape(targetShape: [28, 28, 1])
    /// ```
    public init(targetShape: [Int], name: String? = nil) {
        self.targetShape = targetShape
        super.init(name: name)
    }

    /// `targetShape` with its −1 resolved for a sample of `count` elements.
    func resolved(forSampleShape sample: [Int]) throws -> [Int] {
        let count = sample.reduce(1, *)
        let unknown = targetShape.indices.filter { targetShape[$0] == -1 }
        let known = targetShape.filter { $0 != -1 }
        guard unknown.count <= 1, known.allSatisfy({ $0 > 0 }) else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "a target shape of positive sizes and at most one -1",
                actual: "\(targetShape)")
        }
        let product = known.reduce(1, *)
        if let axis = unknown.first {
            guard count % product == 0 else {
                throw PeregrineError.invalidArgument(
                    operation: name, expected: "a sample size divisible by \(product) to fill \(targetShape)",
                    actual: "per-sample shape \(sample) (\(count) elements)")
            }
            var shape = targetShape
            shape[axis] = count / product
            return shape
        }
        guard product == count else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "\(product) elements per sample for \(targetShape)",
                actual: "per-sample shape \(sample) (\(count) elements)")
        }
        return targetShape
    }

    override public func build(inputShapes: [[Int]]) throws {
        guard inputShapes.count == 1 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "one input", actual: "\(inputShapes.count)")
        }
        _ = try resolved(forSampleShape: inputShapes[0])
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        [try resolved(forSampleShape: shapes[0])]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        let x = inputs[0]
        let shape = try resolved(forSampleShape: Array(x.shape.dropFirst()))
        return [try x.reshaped(to: [x.shape[0]] + shape)]
    }
}

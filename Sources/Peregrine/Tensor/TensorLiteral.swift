/// The scalar types a tensor literal can hold: `Float` for ``Tensor``, `Int32` for ``IntTensor``.
///
/// ```swift
/// let x: Tensor = [[1, 2.5]]      // Float elements
/// let y: IntTensor = [[1, 2]]     // Int32 elements
/// ```
public protocol TensorScalar: Sendable {
    /// The element written as an integer literal.
    ///
    /// ```swift
    /// Float(3) as Float   // the 3 in `let x: Tensor = [3]`
    /// ```
    init(_ value: Int)
}

extension Float: TensorScalar {}
extension Int32: TensorScalar {}

/// One element of a nested array literal: a number or a nested list. It exists so that
/// `let x: Tensor = [[1, 2], [3, 4]]` type-checks; you rarely name it.
///
/// A ragged literal (rows of different lengths) is a programming error in source code and
/// stops the program with a message, as a Dictionary literal with duplicate keys does; build
/// tensors from run-time data with the throwing `Tensor(shape:scalars:)` instead.
///
/// ```swift
/// let x: Tensor = [[1, 2, 3], [4, 5, 6]]   // shape [2, 3]
/// ```
public indirect enum TensorLiteral<Scalar: TensorScalar>: Sendable, ExpressibleByArrayLiteral,
    ExpressibleByIntegerLiteral
{
    /// A number.
    ///
    /// ```swift
    /// let one = TensorLiteral<Float>.scalar(1)
    /// ```
    case scalar(Scalar)
    /// A nested list.
    ///
    /// ```swift
    /// let row = TensorLiteral<Float>.list([1, 2])
    /// ```
    case list([TensorLiteral])

    /// ```swift
    /// let row: TensorLiteral<Float> = [1, 2]
    /// ```
    public init(arrayLiteral elements: TensorLiteral...) { self = .list(elements) }

    /// ```swift
    /// let one: TensorLiteral<Float> = 1
    /// ```
    public init(integerLiteral value: Int) { self = .scalar(Scalar(value)) }

    /// The shape and the row-major scalars of a list of elements; stops on a ragged literal.
    static func flatten(_ elements: [TensorLiteral]) -> (shape: [Int], scalars: [Scalar]) {
        var scalars: [Scalar] = []
        func shape(of element: TensorLiteral) -> [Int] {
            switch element {
            case .scalar: return []
            case .list(let items): return [items.count] + (items.first.map(shape(of:)) ?? [])
            }
        }
        let full = [elements.count] + (elements.first.map(shape(of:)) ?? [])
        func collect(_ element: TensorLiteral, depth: Int) {
            switch element {
            case .scalar(let value):
                precondition(depth == full.count, "Tensor literal is ragged: expected shape \(full)")
                scalars.append(value)
            case .list(let items):
                precondition(depth < full.count && items.count == full[depth],
                             "Tensor literal is ragged: expected shape \(full)")
                for item in items { collect(item, depth: depth + 1) }
            }
        }
        collect(.list(elements), depth: 0)
        return (full, scalars)
    }
}

extension TensorLiteral: ExpressibleByFloatLiteral where Scalar == Float {
    /// ```swift
    /// let half: TensorLiteral<Float> = 0.5
    /// ```
    public init(floatLiteral value: Float) { self = .scalar(value) }
}

extension Tensor: ExpressibleByArrayLiteral {
    /// A tensor from a nested array literal; the nesting gives the shape.
    ///
    /// ```swift
    /// let x: Tensor = [[1, 2, 3]]   // shape [1, 3]
    /// let v: Tensor = [0.5, 1.5]    // shape [2]
    /// ```
    public init(arrayLiteral elements: TensorLiteral<Float>...) {
        let (shape, scalars) = TensorLiteral.flatten(elements)
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: src.count) }
        }
    }
}

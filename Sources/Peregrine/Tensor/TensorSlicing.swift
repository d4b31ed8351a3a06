import CKernels

/// Slicing with Swift's own range syntax, one expression per axis, read-only:
///
/// - an `Int` picks one index and removes the axis: `x[1]`
/// - a range keeps the axis: `x[1..<3]`, `x[1...2]`, `x[2...]`, `x[..<2]`, `x[0...]` (all)
/// - a stride steps through it: `x[stride(from: 0, to: 6, by: 2)]`, and backwards with a
///   negative step: `x[stride(from: 5, through: 0, by: -1)]`
///
/// Axes not mentioned are kept whole. Indices are Swift indices: from 0, never negative, and a
/// bound outside the axis throws (NumPy would clamp silently). Slicing copies (strided copy in C).
///
/// ```swift
/// let x = try Tensor(shape: [4, 6], scalars: (0..<24).map(Float.init))
/// try x[1..<3].shape                               // [2, 6]
/// try x[0..., stride(from: 0, to: 6, by: 2)].shape // [4, 3]
/// try x[2, 5].scalar                               // 17.0
/// ```
public protocol TensorIndexExpression: Sendable {
    /// This expression as a ``TensorRange``.
    ///
    /// ```swift
    /// (1..<3).tensorRange   // .strided(from: 1, to: 3, inclusive: false, by: 1)
    /// ```
    var tensorRange: TensorRange { get }
}

/// One axis of a slice, in its general form.
///
/// ```swift
/// let everyOther = TensorRange.strided(from: 0, to: nil, by: 2)
/// let rows = try x[everyOther]
/// ```
public enum TensorRange: TensorIndexExpression, Equatable {
    /// One index; the axis is removed.
    ///
    /// ```swift
    /// try x.slice([.index(0)])   // the first row, as x[0]
    /// ```
    case index(Int)
    /// `start`, `start + step`, … up to (excluding) `end` — or through `end` when `inclusive`.
    /// A nil start is the first element in the direction of travel; a nil end runs to the axis's edge.
    ///
    /// ```swift
    /// try x.slice([.strided(from: nil, to: nil, by: -1)])   // rows reversed
    /// ```
    case strided(from: Int?, to: Int?, inclusive: Bool = false, by: Int)

    /// The whole axis.
    ///
    /// ```swift
    /// try x[TensorRange.all, 1]   // the same as x[0..., 1]
    /// ```
    public static let all = TensorRange.strided(from: nil, to: nil, by: 1)

    /// Itself.
    ///
    /// ```swift
    /// TensorRange.all.tensorRange == .all   // true
    /// ```
    public var tensorRange: TensorRange { self }

    /// (first index, count, step, keeps the axis) on an axis of `size`, or throws.
    func resolve(size: Int, axis: Int) throws -> (start: Int, count: Int, step: Int, keep: Bool) {
        func fail(_ what: String) -> PeregrineError {
            .invalidArgument(operation: "slice", expected: "indices in 0..<\(size) on axis \(axis)", actual: what)
        }
        switch self {
        case .index(let i):
            guard i >= 0 && i < size else { throw fail("index \(i)") }
            return (i, 1, 1, false)
        case let .strided(from, to, inclusive, step):
            guard step != 0 else {
                throw PeregrineError.invalidArgument(operation: "slice", expected: "a non-zero step", actual: "0")
            }
            if step > 0 {
                let start = from ?? 0
                var end = to ?? size
                if inclusive, to != nil { end += 1 }
                guard start >= 0, start <= end, end <= size else { throw fail("\(start)..<\(end)") }
                return (start, (end - start + step - 1) / step, step, true)
            } else {
                let start = from ?? size - 1
                var end = to ?? -1          // exclusive, going down
                if inclusive, to != nil { end -= 1 }
                guard start < size, end >= -1, end <= start else {
                    throw fail("from \(start) down to \(end) (exclusive)")
                }
                return (start, (start - end + (-step) - 1) / (-step), step, true)
            }
        }
    }
}

extension Int: TensorIndexExpression {
    /// A single index.
    ///
    /// ```swift
    /// try x[2]   // row 2, axis removed
    /// ```
    public var tensorRange: TensorRange { .index(self) }
}

extension Range: TensorIndexExpression where Bound == Int {
    /// `lower..<upper`.
    ///
    /// ```swift
    /// try x[1..<3]
    /// ```
    public var tensorRange: TensorRange { .strided(from: lowerBound, to: upperBound, by: 1) }
}

extension ClosedRange: TensorIndexExpression where Bound == Int {
    /// `lower...upper`.
    ///
    /// ```swift
    /// try x[1...2]
    /// ```
    public var tensorRange: TensorRange { .strided(from: lowerBound, to: upperBound, inclusive: true, by: 1) }
}

extension PartialRangeFrom: TensorIndexExpression where Bound == Int {
    /// `lower...` to the end of the axis.
    ///
    /// ```swift
    /// try x[0..., 1]   // column 1 of every row
    /// ```
    public var tensorRange: TensorRange { .strided(from: lowerBound, to: nil, by: 1) }
}

extension PartialRangeUpTo: TensorIndexExpression where Bound == Int {
    /// `..<upper` from the start of the axis.
    ///
    /// ```swift
    /// try x[..<2]
    /// ```
    public var tensorRange: TensorRange { .strided(from: nil, to: upperBound, by: 1) }
}

extension PartialRangeThrough: TensorIndexExpression where Bound == Int {
    /// `...upper` from the start of the axis.
    ///
    /// ```swift
    /// try x[...1]
    /// ```
    public var tensorRange: TensorRange { .strided(from: nil, to: upperBound, inclusive: true, by: 1) }
}

extension StrideTo: TensorIndexExpression where Element == Int {
    /// `stride(from:to:by:)`, excluding the end.
    ///
    /// ```swift
    /// try x[stride(from: 0, to: 6, by: 2)]   // rows 0, 2, 4
    /// ```
    public var tensorRange: TensorRange {
        // StrideTo does not expose its bounds; its first element and a count reconstruct them.
        let elements = Array(self)
        guard let first = elements.first else { return .strided(from: 0, to: 0, by: 1) }
        let step = elements.count > 1 ? elements[1] - first : 1
        return .strided(from: first, to: elements.last! + (step > 0 ? 1 : -1), by: step)
    }
}

extension StrideThrough: TensorIndexExpression where Element == Int {
    /// `stride(from:through:by:)`, including the end when it is reached.
    ///
    /// ```swift
    /// try x[stride(from: 5, through: 0, by: -1)]   // rows 5 down to 0
    /// ```
    public var tensorRange: TensorRange {
        let elements = Array(self)
        guard let first = elements.first else { return .strided(from: 0, to: 0, by: 1) }
        let step = elements.count > 1 ? elements[1] - first : 1
        return .strided(from: first, to: elements.last! + (step > 0 ? 1 : -1), by: step)
    }
}

extension Tensor {
    /// A slice: one ``TensorIndexExpression`` per leading axis (see ``TensorIndexExpression``).
    ///
    /// ```swift
    /// let batch = try images[0..<32]                 // first 32 samples
    /// let evenColumns = try x[0..., stride(from: 0, to: 6, by: 2)]
    /// ```
    public subscript(_ ranges: any TensorIndexExpression...) -> Tensor {
        get throws { try slice(ranges.map(\.tensorRange)) }
    }

    /// A slice from an array of ranges, for code that builds them at run time.
    ///
    /// ```swift
    /// let window = try x.slice([.strided(from: t, to: t + 10, by: 1)])
    /// ```
    public func slice(_ ranges: [TensorRange]) throws -> Tensor {
        let plan = try SlicePlan(shape: shape, ranges: ranges)
        return Tensor.gather(shape: plan.shape, from: pointer + plan.offset, strides: plan.strides)
            .recorded("slice", inputs: [self]) { [shape] g in
                // Backward: the upstream gradient scattered into zeros at the sliced positions.
                let dx = Tensor(uninitializedShape: shape)
                ck_fill(Int64(dx.scalarCount), 0, dx.pointer)
                if g.scalarCount > 0 {
                    ck_copy_strided32(
                        Int32(plan.shape.count), plan.shape.map(Int64.init), g.pointer,
                        Shape.contiguousStrides(plan.shape).map(Int64.init), dx.pointer + plan.offset,
                        plan.strides.map(Int64.init))
                }
                return [dx]
            }
    }
}

/// Where a slice starts in the source, and its shape and strides (internal; shared by Tensor
/// and IntTensor).
struct SlicePlan {
    var offset = 0
    var shape: [Int] = []
    var strides: [Int] = []

    init(shape source: [Int], ranges: [TensorRange]) throws {
        guard ranges.count <= source.count else {
            throw PeregrineError.invalidArgument(
                operation: "slice", expected: "at most \(source.count) ranges for shape \(source)",
                actual: "\(ranges.count)")
        }
        let sourceStrides = Shape.contiguousStrides(source)
        for axis in source.indices {
            let range = axis < ranges.count ? ranges[axis] : .all
            let (start, count, step, keep) = try range.resolve(size: source[axis], axis: axis)
            if count > 0 { offset += start * sourceStrides[axis] }
            if keep {
                shape.append(count)
                strides.append(step * sourceStrides[axis])
            }
        }
    }
}

import CKernels

/// Cuts `fit`'s batches out of its training tensors: rows `range` of each, in the epoch's
/// shuffled order (a gather) or as they come (a view, no copy).
///
/// A shuffled batch is gathered into the buffer of the last batch of the same size when nobody
/// else holds it any more — a warm step then allocates nothing for its data. Two buffers per
/// tensor are kept, for an epoch's full batches and its shorter last one.
///
/// ```swift
/// var batches = BatchAssembler(x: [images], y: [labels])
/// try batches.assemble(0..<128, order: permutation)
/// batches.x[0].shape   // [128, 28, 28]
/// ```
struct BatchAssembler {
    private let sources: (x: [Tensor], y: [Tensor])
    /// The current batch of every input and every target.
    private(set) var x: [Tensor], y: [Tensor]
    /// Per tensor, the buffer of the other batch size (swapped in when the size changes).
    private var spare: (x: [Tensor?], y: [Tensor?])

    init(x: [Tensor], y: [Tensor]) {
        sources = (x, y)
        self.x = x
        self.y = y
        spare = (x.map { _ in nil }, y.map { _ in nil })
    }

    /// Makes ``x`` and ``y`` rows `range` of the sources, through `order` (row indices) when given.
    mutating func assemble(_ range: Range<Int>, order: IntTensor?) throws {
        for i in sources.x.indices { try Self.cut(sources.x[i], range, order, into: &x[i], spare: &spare.x[i]) }
        for i in sources.y.indices { try Self.cut(sources.y[i], range, order, into: &y[i], spare: &spare.y[i]) }
    }

    private static func cut(
        _ source: Tensor, _ range: Range<Int>, _ order: IntTensor?, into batch: inout Tensor, spare: inout Tensor?
    ) throws {
        guard let order else {
            batch = try source.rowsView(range)
            return
        }
        guard range.lowerBound >= 0, range.upperBound <= order.scalarCount, source.rank >= 1 else {
            throw PeregrineError.invalidArgument(
                operation: "fit batch", expected: "rows within 0..<\(order.scalarCount)", actual: "\(range)")
        }
        if batch.shape.first != range.count {
            // The other batch size's buffer, if there is one; the current one becomes the spare.
            let current = batch
            if let other = spare, other.shape.first == range.count { batch = other }
            spare = current
        }
        // A buffer of its own, and only while the last step (its tape, metrics, callbacks) has
        // let go of it; else a new one.
        if batch.shape.first != range.count || batch.storage === source.storage || batch.storage.isView
            || !isKnownUniquelyReferenced(&batch.storage)
        {
            batch = Tensor(uninitializedShape: [range.count] + source.shape.dropFirst())
        }
        let rowSize = source.shape.dropFirst().reduce(1, *)
        ck_gather_rows(Int64(range.count), Int64(rowSize), source.pointer, order.storage.pointer + range.lowerBound, batch.pointer)
    }
}

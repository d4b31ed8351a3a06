import CKernels

/// Inputs and targets cut into batches, reshuffled every epoch: what Keras's `fit(x, y,
/// batch_size:, shuffle:)` iterates over.
///
/// Rows (the first axis) are examples. Every epoch visits each row exactly once; the last
/// batch keeps the remainder (it is smaller when `batchSize` does not divide the count). With
/// `shuffle`, epoch `e`'s order is a permutation that depends only on the seed and `e`, so a
/// run is reproducible and an epoch can be replayed alone.
///
/// ```swift
/// let (x, y) = try FashionMNIST.load(split: .train)
/// let dataset = try Dataset(x: x, y: y, batchSize: 128, seed: 42)
/// for epoch in 0..<5 {
///     for batch in dataset.batches(epoch: epoch) {
///         // batch.x: [128, 28, 28, 1] (the last one [96, 28, 28, 1]), batch.y: [128]
///     }
/// }
/// ```
public struct Dataset: Sendable {
    /// One batch: matching rows of the inputs and targets.
    ///
    /// ```swift
    /// for batch in dataset.batches(epoch: 0) { print(batch.x.shape, batch.y.shape) }
    /// ```
    public struct Batch: Sendable {
        /// The inputs, `[batch, …]`.
        ///
        /// ```swift
        /// let logits = try model(batch.x, training: true)
        /// ```
        public let x: Tensor
        /// The targets, `[batch, …]`.
        ///
        /// ```swift
        /// let loss = try lossFunction(batch.y, logits)
        /// ```
        public let y: Tensor
    }

    /// All inputs, rows first.
    ///
    /// ```swift
    /// dataset.x.shape   // [60000, 28, 28, 1]
    /// ```
    public let x: Tensor
    /// All targets, with as many rows as `x`.
    ///
    /// ```swift
    /// dataset.y.shape   // [60000]
    /// ```
    public let y: Tensor
    /// Rows per batch (the last batch may have fewer).
    ///
    /// ```swift
    /// try Dataset(x: x, y: y, batchSize: 64).batchSize   // 64
    /// ```
    public let batchSize: Int
    /// Whether each epoch visits the rows in a fresh random order.
    ///
    /// ```swift
    /// try Dataset(x: x, y: y, shuffle: false).shuffle   // false: epochs in row order
    /// ```
    public let shuffle: Bool
    /// The seed of the epochs' permutations.
    ///
    /// ```swift
    /// let replay = try Dataset(x: x, y: y, seed: dataset.seed)   // the same orders
    /// ```
    public let seed: UInt64

    /// A dataset over `x` and `y` (same number of rows, fewer than 2³¹).
    ///
    /// Without a `seed`, one is drawn from ``RandomGenerator``'s global stream, so
    /// `RandomGenerator.setSeed` makes the shuffling reproducible too.
    ///
    /// ```swift
    /// let dataset = try Dataset(x: x, y: y, batchSize: 32, shuffle: true, seed: 7)
    /// ```
    public init(x: Tensor, y: Tensor, batchSize: Int = 32, shuffle: Bool = true, seed: UInt64? = nil) throws {
        guard x.rank >= 1, y.rank >= 1 else {
            throw PeregrineError.invalidArgument(
                operation: "Dataset", expected: "x and y with rows (rank >= 1)",
                actual: "x \(x.shape), y \(y.shape)")
        }
        guard x.shape[0] == y.shape[0] else {
            throw PeregrineError.invalidArgument(
                operation: "Dataset", expected: "as many rows in y as in x (\(x.shape[0]), x is \(x.shape))",
                actual: "y \(y.shape)")
        }
        guard batchSize >= 1 else {
            throw PeregrineError.invalidArgument(operation: "Dataset", expected: "batchSize >= 1", actual: "\(batchSize)")
        }
        guard x.shape[0] <= Int(Int32.max) else {
            throw PeregrineError.invalidArgument(
                operation: "Dataset", expected: "fewer than 2^31 rows", actual: "\(x.shape[0])")
        }
        self.x = x
        self.y = y
        self.batchSize = batchSize
        self.shuffle = shuffle
        if let seed {
            self.seed = seed
        } else {
            let (streamSeed, offset) = RandomGenerator.reserve(1)
            self.seed = streamSeed ^ (offset &+ 1) &* 0x9E37_79B9_7F4A_7C15
        }
    }

    /// The number of examples (rows).
    ///
    /// ```swift
    /// try Dataset(x: x, y: y).count   // x.shape[0]
    /// ```
    public var count: Int { x.shape[0] }

    /// Batches per epoch: ⌈count / batchSize⌉.
    ///
    /// ```swift
    /// try Dataset(x: x, y: y, batchSize: 32).batchCount   // 1875 for 60 000 rows
    /// ```
    public var batchCount: Int { (count + batchSize - 1) / batchSize }

    /// The order in which epoch `epoch` visits the rows: a permutation of `0..<count`, the
    /// identity without shuffling.
    ///
    /// ```swift
    /// let order = dataset.order(epoch: 0)   // IntTensor([count])
    /// ```
    public func order(epoch: Int) -> IntTensor {
        let order = IntTensor(uninitializedShape: [count])
        if shuffle {
            // Epoch e uses counters [e·count, (e+1)·count): epochs never share random numbers.
            ck_random_permutation(Int64(count), seed, UInt64(truncatingIfNeeded: epoch) &* UInt64(count),
                                  order.storage.pointer)
        } else {
            for i in 0..<count { order.storage.pointer[i] = Int32(i) }   // once per epoch: no kernel needed
        }
        return order
    }

    /// The batches of epoch `epoch`, gathered lazily as the loop asks for them.
    ///
    /// ```swift
    /// for batch in dataset.batches(epoch: 3) { try step(batch.x, batch.y) }
    /// ```
    public func batches(epoch: Int = 0) -> Batches {
        Batches(dataset: self, order: order(epoch: epoch))
    }

    /// The batches of one epoch, a `Sequence` of ``Batch``.
    ///
    /// ```swift
    /// let epoch = dataset.batches(epoch: 0)
    /// epoch.count   // dataset.batchCount
    /// ```
    public struct Batches: Sequence, Sendable {
        let dataset: Dataset
        /// The row order of this epoch.
        ///
        /// ```swift
        /// dataset.batches(epoch: 2).order == dataset.order(epoch: 2)   // true
        /// ```
        public let order: IntTensor

        /// The number of batches.
        ///
        /// ```swift
        /// dataset.batches().count == dataset.batchCount   // true
        /// ```
        public var count: Int { dataset.batchCount }

        /// An iterator that gathers each batch's rows when it is reached.
        ///
        /// ```swift
        /// var it = dataset.batches().makeIterator()
        /// let first = it.next()
        /// ```
        public func makeIterator() -> Iterator { Iterator(batches: self) }

        /// Gathers batch after batch.
        ///
        /// ```swift
        /// var it = dataset.batches(epoch: 0).makeIterator()
        /// while let batch = it.next() { print(batch.x.shape) }
        /// ```
        public struct Iterator: IteratorProtocol {
            let batches: Batches
            var start = 0

            /// The next batch, or nil after the last.
            ///
            /// ```swift
            /// let batch = it.next()   // Batch? — nil once every row was visited
            /// ```
            public mutating func next() -> Batch? {
                let dataset = batches.dataset
                guard start < dataset.count else { return nil }
                let end = Swift.min(start + dataset.batchSize, dataset.count)
                let indices = IntTensor(uninitializedShape: [end - start])
                indices.storage.pointer.update(from: batches.order.storage.pointer + start, count: end - start)
                start = end
                return Batch(x: dataset.x.gatherRowsUnchecked(indices), y: dataset.y.gatherRowsUnchecked(indices))
            }
        }
    }
}

import CZlib
import Foundation
import Testing

@testable import Peregrine

/// IDX files, MNIST-format loading, row gathers, shuffled batches and validation splits.
@Suite struct DataTests {
    // MARK: - Helpers

    /// An IDX file: magic 0x0000 08 d, big-endian sizes, then the bytes.
    static func idx(_ dims: [Int], _ data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dims.count)]
        for d in dims { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + data
    }

    /// gzip-compressed bytes, through zlib's gzwrite (as the .gz files are made).
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let url = try temporaryDirectory().appendingPathComponent("x.gz")
        let file = try #require(gzopen(url.path, "wb"))
        let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        #expect(Int(written) == bytes.count)
        #expect(gzclose(file) == Z_OK)
        return Array(try Data(contentsOf: url))
    }

    static func temporaryDirectory() throws -> URL {
        try TestFiles.directory("data")
    }

    /// The message of the PeregrineError that `body` throws (fails the test if it does not).
    static func message(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            try body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
        } catch let error as PeregrineError {
            return error.description
        } catch {
            Issue.record("expected a PeregrineError, got \(error)", sourceLocation: sourceLocation)
        }
        return ""
    }

    // MARK: - IDX

    @Test func idxRawAndGzipRoundTrip() throws {
        let data = (0..<24).map { UInt8($0 * 10) }
        let raw = Self.idx([2, 3, 4], data)
        for bytes in [raw, try Self.gzip(raw)] {
            let x = try IDXFile.decode(bytes, rank: 3)
            #expect(x.shape == [2, 3, 4])
            #expect(x.scalars == data.map(Float.init))
            let scaled = try IDXFile.decode(bytes, scale: 1 / 255)
            #expect(scaled.scalars == data.map { Float($0) * (1 / 255 as Float) })
            let first = try IDXFile.decode(bytes, rank: 3, limit: 1)
            #expect(first.shape == [1, 3, 4])
            #expect(first.scalars == data[0..<12].map(Float.init))
            #expect(try IDXFile.decode(bytes, limit: 0).shape == [0, 3, 4])
            #expect(try IDXFile.decode(bytes, limit: 99).shape == [2, 3, 4])
        }
    }

    @Test func idxFilesOnDisk() throws {
        let dir = try Self.temporaryDirectory()
        let labels = Self.idx([5], [3, 1, 4, 1, 5])
        try Data(labels).write(to: dir.appendingPathComponent("labels"))
        try Data(try Self.gzip(labels)).write(to: dir.appendingPathComponent("labels.gz"))
        for name in ["labels", "labels.gz"] {
            let y = try IDXFile.read(dir.appendingPathComponent(name), rank: 1)
            #expect(y.scalars == [3, 1, 4, 1, 5])
        }
        let missing = Self.message { _ = try IDXFile.read(dir.appendingPathComponent("nope.gz")) }
        #expect(missing.contains("nope.gz") && missing.contains("No such file"))
    }

    /// Every way an IDX file can be bad gives an error that names the file and the problem.
    @Test(arguments: [
        ("empty", [], "ends after 0 of its 4 bytes"),
        ("labels-as-images", DataTests.idx([2], [1, 2]), "expected magic number 0x00000803 (unsigned bytes, 3 dimensions), got 0x00000801"),
        ("not-idx", [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0], "expected an IDX magic number 0x0000TTDD, got 0x504b0304"),
        ("float-type", DataTests.idx([2], [0, 0, 0, 0, 0, 0, 0, 0], type: 0x0D), "data type 0x08 (unsigned bytes, the only type read), got type 0xd"),
        ("zero-dimensions", [0, 0, 8, 0], "1 to 8 dimensions, got 0"),
        ("short-sizes", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0], "expected 3 dimension sizes, got the file ends after 6 of its 12 bytes"),
        ("truncated-data", DataTests.idx([2, 2, 2], [1, 2, 3]), "expected 8 data bytes for dimensions [2, 2, 2], got 3 (truncated file)"),
        ("extra-data", DataTests.idx([2], [1, 2, 3]), "got 3 (data beyond the declared size)"),
        ("absurd-sizes", DataTests.idx([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], []), "dimensions of at most 2147483648 bytes in total"),
        ("over-cap", DataTests.idx([65536, 32769], []), "dimensions of at most 2147483648 bytes in total, got dimensions [65536, 32769]"),
    ] as [(String, [UInt8], String)])
    func idxBadInput(name: String, bytes: [UInt8], expected: String) {
        let message = Self.message { _ = try IDXFile.decode(bytes, name: name, rank: name == "labels-as-images" ? 3 : nil) }
        #expect(message.hasPrefix("IDXFile.read '\(name)'"))
        #expect(message.contains(expected), "\(message)")
    }

    @Test func idxBadGzip() throws {
        // A header that declares 60 000 × 28 × 28 bytes, but only 100 are there: the reader
        // stops at the end of the real data instead of allocating the declared size.
        let full = try Self.gzip(Self.idx([60000, 28, 28], [UInt8](repeating: 7, count: 100)))
        let short = Self.message { _ = try IDXFile.decode(full, name: "bomb.gz") }
        #expect(short.contains("expected 47040000 data bytes for dimensions [60000, 28, 28], got 100 (truncated file)"), "\(short)")

        let good = try Self.gzip(Self.idx([4, 4], [UInt8](repeating: 1, count: 16)))
        let truncated = Self.message { _ = try IDXFile.decode(Array(good.dropLast(12)), name: "cut.gz") }
        #expect(truncated.contains("the gzip data ends early (truncated file)"), "\(truncated)")

        var corrupt = good
        corrupt[corrupt.count - 6] ^= 0xFF   // inside the CRC-32 trailer
        let bad = Self.message { _ = try IDXFile.decode(corrupt, name: "crc.gz") }
        #expect(bad.contains("corrupt gzip data (incorrect data check)"), "\(bad)")

        let garbage = Self.message { _ = try IDXFile.decode([0x1F, 0x8B, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], name: "junk.gz") }
        #expect(garbage.contains("junk.gz") && garbage.contains("gzip"), "\(garbage)")
    }

    // MARK: - MNIST-format datasets

    /// A directory with the four files of an MNIST-format dataset (gzip).
    static func mnistDirectory(trainCount: Int = 5, testCount: Int = 3, labels: [UInt8]? = nil) throws -> URL {
        let dir = try temporaryDirectory()
        for (prefix, count) in [("train", trainCount), ("t10k", testCount)] {
            let pixels = (0..<(count * 784)).map { UInt8($0 % 256) }
            let y = labels ?? (0..<count).map { UInt8($0 % 10) }
            try Data(try gzip(idx([count, 28, 28], pixels))).write(to: dir.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"))
            try Data(try gzip(idx([y.count], y))).write(to: dir.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"))
        }
        return dir
    }

    @Test func mnistLoad() throws {
        let dir = try Self.mnistDirectory()
        let (x, y) = try MNISTDataset.load(directory: dir, split: .train)
        #expect(x.shape == [5, 28, 28, 1])
        #expect(y.scalars == [0, 1, 2, 3, 4])
        #expect(x.scalars[255] == 1 && x.scalars[0] == 0 && x.scalars[256] == 0)
        let test = try MNISTDataset.load(directory: dir, split: .test, limit: 2)
        #expect(test.images.shape == [2, 28, 28, 1] && test.labels.shape == [2])

        let mismatch = Self.message { _ = try MNISTDataset.load(directory: try Self.mnistDirectory(labels: [1, 2]), split: .train) }
        #expect(mismatch.contains("as many labels as images (5 in train-images-idx3-ubyte.gz), got 2 labels in train-labels-idx1-ubyte.gz"), "\(mismatch)")
        let badLabel = Self.message { _ = try MNISTDataset.load(directory: try Self.mnistDirectory(labels: [1, 2, 10, 3, 4])) }
        #expect(badLabel.contains("class indices below 10, got label 10.0 at index 2"), "\(badLabel)")
        let missing = Self.message { _ = try FashionMNIST.load(directory: try Self.temporaryDirectory(), split: .test) }
        #expect(missing.contains("t10k-images-idx3-ubyte") && missing.contains("No such file"), "\(missing)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory.path)))
    func fashionMNISTFromDebian() throws {
        let (x, y) = try FashionMNIST.load(split: .test, limit: 100)
        #expect(x.shape == [100, 28, 28, 1])
        #expect(y.shape == [100])
        let pixels = x.scalars
        #expect(pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(pixels.max() == 1 && pixels.min() == 0)
        #expect(y.scalars.allSatisfy { $0 >= 0 && $0 <= 9 && $0 == $0.rounded() })
        #expect(Set(y.scalars).count == 10)
        #expect(y.scalars[0] == 9)   // the first test image is an ankle boot
    }

    // MARK: - Row gathers and datasets

    @Test func gatherRows() throws {
        let x = try Tensor(shape: [4, 2, 3], scalars: (0..<24).map(Float.init))
        let g = try x.gatherRows([3, 0, 3])
        #expect(g.shape == [3, 2, 3])
        let rows: [Float] = [18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 18, 19, 20, 21, 22, 23]
        #expect(g.scalars == rows)
        #expect(try x.gatherRows(IntTensor([])).shape == [0, 2, 3])
        #expect(try Tensor([5, 6, 7]).gatherRows([[2, 1], [0, 0]]).scalars == [7, 6, 5, 5])
        let bad = Self.message { _ = try x.gatherRows([1, 4]) }
        #expect(bad == "gatherRows: expected row indices in 0..<4 (shape [4, 2, 3]), got 4 at position 1")
        let negative = Self.message { _ = try x.gatherRows([-1]) }
        #expect(negative.contains("got -1 at position 0"))
        let scalar = Self.message { _ = try Tensor(1).gatherRows([0]) }
        #expect(scalar == "gatherRows: expected a tensor with rows (rank >= 1), got a scalar")
    }

    /// Rows tagged with their index: x[i] = [i, -i], y[i] = i.
    static func tagged(_ n: Int) throws -> (Tensor, Tensor) {
        let x = try Tensor(shape: [n, 2], scalars: (0..<n).flatMap { [Float($0), -Float($0)] })
        return (x, try Tensor(shape: [n], scalars: (0..<n).map(Float.init)))
    }

    @Test func datasetCoversEveryRowOncePerEpoch() throws {
        let (x, y) = try Self.tagged(103)
        let dataset = try Dataset(x: x, y: y, batchSize: 10, seed: 1)
        #expect(dataset.count == 103 && dataset.batchCount == 11)
        var orders: [[Float]] = []
        for epoch in 0..<3 {
            var seen: [Float] = []
            var sizes: [Int] = []
            for batch in dataset.batches(epoch: epoch) {
                sizes.append(batch.x.shape[0])
                #expect(batch.x.shape[1] == 2 && batch.y.shape == [batch.x.shape[0]])
                // Inputs and targets stay paired.
                #expect(try batch.x[0..., 0].scalars == batch.y.scalars)
                #expect(try batch.x[0..., 1].scalars == batch.y.scalars.map { -$0 })
                seen += batch.y.scalars
            }
            #expect(sizes == Array(repeating: 10, count: 10) + [3])
            #expect(seen.sorted() == (0..<103).map(Float.init))
            #expect(seen != (0..<103).map(Float.init))   // shuffled
            orders.append(seen)
        }
        #expect(orders[0] != orders[1] && orders[1] != orders[2])
        #expect(dataset.order(epoch: 1).scalars.map(Float.init) == orders[1])
    }

    @Test func datasetShuffleIsDeterministic() throws {
        let (x, y) = try Self.tagged(50)
        let a = try Dataset(x: x, y: y, batchSize: 7, seed: 42)
        let b = try Dataset(x: x, y: y, batchSize: 7, seed: 42)
        let c = try Dataset(x: x, y: y, batchSize: 7, seed: 43)
        #expect(a.order(epoch: 5) == b.order(epoch: 5))
        #expect(a.order(epoch: 0) != c.order(epoch: 0))
        #expect(Array(a.batches(epoch: 2)).map(\.y.scalars) == Array(b.batches(epoch: 2)).map(\.y.scalars))

        // No seed: drawn from the global stream, so setSeed reproduces it.
        RandomGenerator.setSeed(7)
        let d1 = try Dataset(x: x, y: y)
        RandomGenerator.setSeed(7)
        let d2 = try Dataset(x: x, y: y)
        #expect(d1.seed == d2.seed && d1.order(epoch: 0) == d2.order(epoch: 0))

        let plain = try Dataset(x: x, y: y, batchSize: 64, shuffle: false)
        #expect(plain.order(epoch: 3).scalars == (0..<50).map(Int32.init))
        #expect(Array(plain.batches()).map(\.y.scalars) == [(0..<50).map(Float.init)])
    }

    @Test func datasetRejectsBadArguments() throws {
        let (x, y) = try Self.tagged(4)
        let rows = Self.message { _ = try Dataset(x: x, y: try Tensor.zeros([3])) }
        #expect(rows == "Dataset: expected as many rows in y as in x (4, x is [4, 2]), got y [3]")
        let batch = Self.message { _ = try Dataset(x: x, y: y, batchSize: 0) }
        #expect(batch == "Dataset: expected batchSize >= 1, got 0")
        let empty = try Dataset(x: try Tensor.zeros([0, 2]), y: try Tensor.zeros([0]))
        #expect(empty.batchCount == 0 && Array(empty.batches()).isEmpty)
    }

    // MARK: - Validation split

    @Test(arguments: [(10, 0.2, 8), (10, 0.25, 7), (10, 0.3, 7), (10, 0.7, 3), (10, 0.05, 9), (3, 0.5, 1), (60000, 0.1, 54000)])
    func validationSplit(count: Int, fraction: Double, trainRows: Int) throws {
        let (x, y) = try Self.tagged(count)
        let (train, validation) = try trainValidationSplit(x, y, validationSplit: fraction)
        #expect(train.x.shape == [trainRows, 2] && train.y.shape == [trainRows])
        #expect(validation.x.shape == [count - trainRows, 2])
        #expect(train.y.scalars == (0..<trainRows).map(Float.init))
        #expect(validation.y.scalars == (trainRows..<count).map(Float.init))   // the last rows
    }

    @Test func validationSplitErrors() throws {
        let (x, y) = try Self.tagged(10)
        #expect(Self.message { _ = try trainValidationSplit(x, y, validationSplit: 0) }
            == "trainValidationSplit: expected validationSplit in (0, 1), got 0.0")
        #expect(Self.message { _ = try trainValidationSplit(x, y, validationSplit: 1) }.contains("in (0, 1), got 1.0"))
        let tiny = Self.message { _ = try trainValidationSplit(x, y, validationSplit: 1e-17) }
        #expect(tiny.contains("(split at 10)"), "\(tiny)")
        let (one, oneY) = try Self.tagged(1)
        #expect(Self.message { _ = try trainValidationSplit(one, oneY, validationSplit: 0.5) }.contains("(split at 0)"))
        #expect(Self.message { _ = try trainValidationSplit(x, try Tensor.zeros([9]), validationSplit: 0.5) }
            .contains("same number of rows"))
    }
}

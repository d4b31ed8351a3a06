import Foundation
import Testing

@testable import Peregrine

/// safetensors encoding and validation, atomic writes, and weight files.
@Suite struct SafeTensorsTests {
    static func message(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        DataTests.message(body, sourceLocation: sourceLocation)
    }

    /// A safetensors file from a header text (unpadded) and data bytes.
    static func file(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { bytes += $0 }
        return bytes + h + data
    }

    static func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

    @Test func roundTripIsBitExact() throws {
        let specials: [UInt32] = [
            0x7FC0_0000, 0x7FC1_2345, 0xFFC0_0001, 0x7F80_0001, 0xFFA0_0001,   // quiet and signalling NaNs with payloads
            0x8000_0000, 0x0000_0000, 0x0000_0001, 0x807F_FFFF, 0x0040_0000,   // ±0, subnormals
            0x7F80_0000, 0xFF80_0000, 0x7F7F_FFFF, 0x3F80_0000, 0xBEAA_AAAB,
        ]
        let a = try Tensor(shape: [3, 5], scalars: specials.map(Float.init(bitPattern:)))
        let tensors: [(name: String, tensor: Tensor)] = [
            ("dense/kernel", a), ("dense/bias", Tensor(-0.0)), ("empty", try Tensor.zeros([2, 0, 3])),
            ("conv2d/kernel", try Tensor.randomNormal([3, 3, 2, 4], seed: 1)), ("naïve \"quoted\"\n", Tensor([1, 2])),
        ]
        let metadata = ["format": "peregrine", "note": "ünïcode \"quotes\" \\ and \n\t control \u{1}"]
        let bytes = try SafeTensors.encode(tensors, metadata: metadata)
        let headerLength = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(headerLength % 8 == 0)
        #expect(bytes[8] == UInt8(ascii: "{"))
        #expect(try SafeTensors.encode(tensors, metadata: metadata) == bytes)   // deterministic

        let file = try SafeTensors.decode(bytes)
        #expect(file.names == tensors.map(\.name))
        #expect(file.metadata == metadata)
        for (name, tensor) in tensors {
            let read = try #require(file.tensors[name])
            #expect(read.shape == tensor.shape)
            #expect(Self.bits(read) == Self.bits(tensor), "\(name)")
        }

        let dir = try DataTests.temporaryDirectory()
        let url = dir.appendingPathComponent("model.safetensors")
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        #expect(Array(try Data(contentsOf: url)) == bytes)
        #expect(Self.bits(try #require(try SafeTensors.read(from: url).tensors["dense/kernel"])) == specials)
        #expect(try SafeTensors.decode(SafeTensors.encode([])).tensors.isEmpty)
    }

    /// Reads files written by other tools: keys in any order, extra whitespace, no metadata.
    @Test func readsForeignLayout() throws {
        var data: [UInt8] = []
        for v: Float in [1, 2, 3, 4] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
        let header = #" { "b" : {"shape":[1],"data_offsets":[12,16],"dtype":"F32"}, "a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]} }  "#
        let file = try SafeTensors.decode(Self.file(header, data: data))
        #expect(file.names == ["a", "b"])
        #expect(file.tensors["a"]?.scalars == [1, 2, 3] && file.tensors["b"]?.scalars == [4])
        #expect(file.metadata.isEmpty)
    }

    static let f32 = #""dtype":"F32""#

    /// Each malformed file is rejected with a message that names the file and the problem.
    @Test(arguments: [
        ("short", [1, 2, 3], "expected at least the 8-byte header length, got a file of 3 bytes"),
        ("past-end", SafeTensorsTests.file("{}", declaredLength: 64), "expected a header length within the file's 2 bytes after the length field, got header length 64"),
        ("huge-header", SafeTensorsTests.file("{}", declaredLength: .max), "expected a header length of at most 100000000 bytes, got 18446744073709551615"),
        ("not-json", SafeTensorsTests.file("{\"a\": [1, 2,]}"), "expected a JSON header, got unexpected character ']' at header byte 12"),
        ("array", SafeTensorsTests.file("[]"), "expected a JSON object as the header, got an array"),
        ("f16", SafeTensorsTests.file(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "expected dtype F32 for tensor \"h\" (the only dtype Peregrine reads), got dtype F16"),
        ("negative", SafeTensorsTests.file(#"{"n":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: .init(repeating: 0, count: 8)), "expected non-negative integer dimensions for tensor \"n\", got the number -2"),
        ("count", SafeTensorsTests.file(#"{"c":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: .init(repeating: 0, count: 8)), "expected 12 bytes (F32, shape [3]) for tensor \"c\", got data_offsets [0, 8] (8 bytes)"),
        ("outside", SafeTensorsTests.file(#"{"o":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: .init(repeating: 0, count: 8)), "expected data_offsets within the 8 data bytes for tensor \"o\", got [4, 12]"),
        ("overlap", SafeTensorsTests.file(#"{"p":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"q":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: .init(repeating: 0, count: 8)), "tensor \"q\" at [4, 8] overlaps the one before it (ending at 8)"),
        ("hole", SafeTensorsTests.file(#"{"r":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: .init(repeating: 0, count: 8)), "a hole at data bytes [0, 4) before tensor \"r\""),
        ("trailing", SafeTensorsTests.file(#"{"s":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: .init(repeating: 0, count: 8)), "got 4 data bytes after the last tensor"),
        ("metadata", SafeTensorsTests.file(#"{"__metadata__":{"epoch":3}}"#), "expected string values in __metadata__, got the number 3 for key \"epoch\""),
        ("nesting", SafeTensorsTests.file(String(repeating: "[", count: 100_000)), "nesting deeper than 64 levels"),
        ("duplicate", SafeTensorsTests.file(#"{"a":{},"a":{}}"#), "duplicate key \"a\" at header byte 8"),
        ("unknown-field", SafeTensorsTests.file(#"{"u":{"dtype":"F32","shape":[],"data_offsets":[0,4],"extra":1}}"#, data: [0, 0, 0, 0]), "only dtype, shape and data_offsets for tensor \"u\", got a field \"extra\""),
        ("big-offset", SafeTensorsTests.file(#"{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}"#), "data_offsets [begin, end] with 0 <= begin <= end for tensor \"b\""),
        ("big-shape", SafeTensorsTests.file(#"{"g":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#), "expected a shape of at most 4294967295 elements for tensor \"g\""),
        ("bad-utf8", SafeTensorsTests.file("{\"\u{FF}\":{}}").map { $0 == 0xC3 ? 0xFF : $0 }, "string is not valid UTF-8"),
        ("missing-field", SafeTensorsTests.file(#"{"m":{"dtype":"F32","shape":[0]}}"#), "expected dtype, shape and data_offsets for tensor \"m\", got a missing field"),
    ] as [(String, [UInt8], String)])
    func rejectsBadFile(name: String, bytes: [UInt8], expected: String) {
        let message = Self.message { _ = try SafeTensors.decode(bytes, name: name) }
        #expect(message.hasPrefix("SafeTensors.read '\(name)': "), "\(message)")
        #expect(message.contains(expected), "\(message)")
    }

    @Test func writeRejectsBadNames() {
        let one = Tensor([1])
        #expect(Self.message { _ = try SafeTensors.encode([("w", one), ("w", one)]) }
            == "SafeTensors.write: expected distinct tensor names, got \"w\" twice")
        #expect(Self.message { _ = try SafeTensors.encode([("__metadata__", one)]) }.contains("other than"))
        #expect(Self.message { _ = try SafeTensors.encode([("", one)]) }.contains("other than"))
    }

    // MARK: - Atomic writes

    static func leftovers(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
    }

    @Test func atomicWriteKeepsOldFileOnFailure() throws {
        let dir = try DataTests.temporaryDirectory()
        let url = dir.appendingPathComponent("weights.safetensors")
        try AtomicFile.write(Array("old".utf8), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "old")

        struct Killed: Error {}
        var sawTemporary = false
        #expect(throws: Killed.self) {
            try AtomicFile.write(Array("new, half written".utf8), to: url) { temporary in
                sawTemporary = FileManager.default.fileExists(atPath: temporary)
                throw Killed()
            }
        }
        #expect(sawTemporary)
        #expect(try String(contentsOf: url, encoding: .utf8) == "old")
        #expect(try Self.leftovers(dir).isEmpty)

        // A rename that fails for real: the destination is a non-empty directory.
        let blocked = dir.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("inside"), withIntermediateDirectories: true)
        let renameFailure = Self.message { try SafeTensors.write([("w", Tensor([1]))], to: blocked) }
        #expect(renameFailure.hasPrefix("AtomicFile.write '\(blocked.path)'") && renameFailure.contains("cannot rename"), "\(renameFailure)")
        #expect(FileManager.default.fileExists(atPath: blocked.appendingPathComponent("inside").path))
        #expect(try Self.leftovers(dir).isEmpty)

        let noDirectory = Self.message { try AtomicFile.write([1], to: dir.appendingPathComponent("missing/file")) }
        #expect(noDirectory.contains("cannot create a temporary file") && noDirectory.contains("No such file"), "\(noDirectory)")

        try AtomicFile.write(Array("new".utf8), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "new")
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }

    // MARK: - Weight files

    static func variables(_ shapes: [String: [Int]], seed: UInt64) throws -> [Variable] {
        try shapes.sorted { $0.key < $1.key }.enumerated().map { i, entry in
            let v = Variable(try Tensor.randomNormal(entry.value, seed: seed + UInt64(i)), name: String(entry.key.split(separator: "/").last!))
            v.path = entry.key
            return v
        }
    }

    @Test func saveAndLoadWeights() throws {
        let url = try DataTests.temporaryDirectory().appendingPathComponent("w.safetensors")
        let shapes = ["dense/kernel": [4, 3], "dense/bias": [3], "batch_normalization/moving_mean": [3]]
        let saved = try Self.variables(shapes, seed: 1)
        try saveWeights(saved, to: url, metadata: ["epoch": "2"])
        #expect(try SafeTensors.read(from: url).names == saved.map(\.path))

        let loaded = try Self.variables(shapes, seed: 100)
        try loadWeights(into: loaded.reversed(), from: url)   // matched by path, not by position
        for (a, b) in zip(saved, loaded) { #expect(Self.bits(a.value) == Self.bits(b.value)) }

        let before = loaded.map { Self.bits($0.value) }
        let wrongShape = try Self.variables(["dense/kernel": [3, 4], "dense/bias": [3], "batch_normalization/moving_mean": [3]], seed: 5)
        let shapeMessage = Self.message { try loadWeights(into: wrongShape, from: url) }
        #expect(shapeMessage == "loadWeights '\(url.path)': expected shape [3, 4] for weight 'dense/kernel' (the variable's), got shape [4, 3] in the file")

        let missing = try Self.variables(shapes.merging(["dense_1/kernel": [2]]) { a, _ in a }, seed: 5)
        let missingMessage = Self.message { try loadWeights(into: missing, from: url) }
        #expect(missingMessage.contains("expected a tensor for weight 'dense_1/kernel', got none in the file (it has 'batch_normalization/moving_mean', 'dense/bias', 'dense/kernel')"), "\(missingMessage)")

        let fewer = try Self.variables(["dense/kernel": [4, 3], "dense/bias": [3]], seed: 5)
        let fewerBefore = fewer.map { Self.bits($0.value) }
        let extraMessage = Self.message { try loadWeights(into: fewer, from: url) }
        #expect(extraMessage.contains("got a tensor 'batch_normalization/moving_mean' in the file that matches no variable"), "\(extraMessage)")
        #expect(fewer.map { Self.bits($0.value) } == fewerBefore)   // all or nothing
        #expect(loaded.map { Self.bits($0.value) } == before)

        let duplicate = Self.message { try saveWeights([saved[0], saved[0]], to: url) }
        #expect(duplicate.contains("distinct tensor names"))
    }
}

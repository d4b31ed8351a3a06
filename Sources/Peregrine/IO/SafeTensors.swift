#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CKernels

#if _endian(big)
#error("SafeTensors stores little-endian data: byte-swapping is not implemented")
#endif

/// Hugging Face's safetensors format: Peregrine's weight file, readable by the `safetensors`
/// Python package (and so by PyTorch, JAX and Keras tooling).
///
/// Layout: an 8-byte little-endian header length `N`, then `N` bytes of JSON
/// `{"dense/kernel": {"dtype": "F32", "shape": [784, 10], "data_offsets": [0, 31360]}, …,
/// "__metadata__": {"key": "value"}}` padded with spaces to a multiple of 8, then the raw
/// little-endian data, each tensor at its offsets relative to the end of the header. Only `F32`
/// tensors are supported. Reading checks everything (the file is untrusted input) and throws
/// ``PeregrineError`` naming the file and the problem.
///
/// ```swift
/// let url = URL(fileURLWithPath: "model.safetensors")
/// try SafeTensors.write([("dense/kernel", kernel), ("dense/bias", bias)],
///                       metadata: ["format": "peregrine"], to: url)
/// let file = try SafeTensors.read(from: url)
/// file.tensors["dense/kernel"]?.shape   // [784, 10]
/// ```
public enum SafeTensors {
    /// The largest header accepted (the Python package's limit, 100 MB).
    ///
    /// ```swift
    /// SafeTensors.maximumHeaderSize   // 100_000_000
    /// ```
    public static let maximumHeaderSize = 100_000_000

    /// The contents of a safetensors file.
    ///
    /// ```swift
    /// let file = try SafeTensors.read(from: url)
    /// for name in file.names { print(name, file.tensors[name]!.shape) }
    /// ```
    public struct Contents: Sendable {
        /// Every tensor by name.
        ///
        /// ```swift
        /// let kernel = file.tensors["dense/kernel"]
        /// ```
        public var tensors: [String: Tensor]
        /// The tensor names in the order of their data in the file (the order they were
        /// written in, for files Peregrine writes).
        ///
        /// ```swift
        /// file.names   // ["dense/kernel", "dense/bias"]
        /// ```
        public var names: [String]
        /// The `__metadata__` strings (empty when the file has none).
        ///
        /// ```swift
        /// file.metadata["format"]   // "peregrine"
        /// ```
        public var metadata: [String: String]
    }

    // MARK: - Writing

    /// Writes `tensors` (in the given order) and `metadata` to `url` atomically (see
    /// ``AtomicFile``): a failed write leaves any previous file intact.
    ///
    /// Throws when a name is empty, repeated or `__metadata__`.
    ///
    /// ```swift
    /// try SafeTensors.write([("w", try Tensor.ones([2, 3]))], metadata: ["epoch": "3"], to: url)
    /// ```
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL
    ) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }

    /// The bytes of a safetensors file holding `tensors` (in the given order) and `metadata`
    /// (keys sorted, so the same input always gives the same bytes).
    ///
    /// ```swift
    /// let bytes = try SafeTensors.encode([("bias", try Tensor.zeros([10]))])
    /// ```
    public static func encode(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]
    ) throws -> [UInt8] {
        var seen = Set<String>()
        var entries: [String] = []
        if !metadata.isEmpty {
            let members = metadata.sorted { $0.key < $1.key }
                .map { JSONValue.quoted($0.key) + ":" + JSONValue.quoted($0.value) }
            entries.append("\"__metadata__\":{" + members.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in tensors {
            guard !name.isEmpty, name != "__metadata__" else {
                throw PeregrineError.invalidArgument(
                    operation: "SafeTensors.write", expected: "tensor names other than \"\" and \"__metadata__\"",
                    actual: "\"\(name)\"")
            }
            guard seen.insert(name).inserted else {
                throw PeregrineError.invalidArgument(
                    operation: "SafeTensors.write", expected: "distinct tensor names",
                    actual: "\"\(name)\" twice")
            }
            let end = offset + 4 * tensor.scalarCount
            entries.append(
                JSONValue.quoted(name) + ":{\"dtype\":\"F32\",\"shape\":["
                    + tensor.shape.map(String.init).joined(separator: ",")
                    + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        // Pad with spaces so that the data starts 8-byte aligned (as the Python package does).
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for (_, tensor) in tensors {
            tensor.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeRawBufferPointer($0)) }
        }
        return bytes
    }

    // MARK: - Reading

    /// Reads and validates the safetensors file at `url`.
    ///
    /// ```swift
    /// let file = try SafeTensors.read(from: URL(fileURLWithPath: "model.safetensors"))
    /// let kernel = file.tensors["dense/kernel"]
    /// ```
    public static func read(from url: URL) throws -> Contents {
        let bytes = try FileBytes.read(url, operation: "SafeTensors.read")
        return try decode(bytes, name: url.path)
    }

    /// Parses and validates safetensors bytes; `name` labels the errors.
    ///
    /// Throws ``PeregrineError`` when the header length points outside the bytes, the header is
    /// not valid JSON, a dtype is not `F32`, a shape is negative or disagrees with its offsets,
    /// offsets leave the data, overlap or leave holes, or the metadata holds non-strings.
    ///
    /// ```swift
    /// let file = try SafeTensors.decode(bytes, name: "download")
    /// ```
    public static func decode(_ bytes: [UInt8], name: String = "<memory>") throws -> Contents {
        let fail = { (expected: String, actual: String) in
            PeregrineError.invalidArgument(
                operation: "SafeTensors.read '\(name)'", expected: expected, actual: actual)
        }
        guard bytes.count >= 8 else {
            throw fail("at least the 8-byte header length", "a file of \(bytes.count) bytes")
        }
        let declared = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared <= UInt64(maximumHeaderSize) else {
            throw fail("a header length of at most \(maximumHeaderSize) bytes", "\(declared)")
        }
        let headerSize = Int(declared)
        guard headerSize <= bytes.count - 8 else {
            throw fail("a header length within the file's \(bytes.count - 8) bytes after the length field",
                       "header length \(headerSize)")
        }
        let dataStart = 8 + headerSize
        let dataSize = bytes.count - dataStart

        let header: JSONValue
        do {
            header = try bytes.withUnsafeBufferPointer { all throws(JSONSyntaxError) in
                try JSONParser.parse(UnsafeBufferPointer(rebasing: all[8..<dataStart]))
            }
        } catch {
            throw fail("a JSON header", "\(error.message) at header byte \(error.offset)")
        }
        guard case let .object(members) = header else {
            throw fail("a JSON object as the header", header.kind)
        }

        struct Entry {
            var name: String, shape: [Int], begin: Int, end: Int, position: Int
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (position, (key, value)) in members.enumerated() {
            if key == "__metadata__" {
                guard case let .object(pairs) = value else {
                    throw fail("__metadata__ to be an object of strings", value.kind)
                }
                for (k, v) in pairs {
                    guard case let .string(s) = v else {
                        throw fail("string values in __metadata__", "\(v.kind) for key \"\(k)\"")
                    }
                    metadata[k] = s
                }
                continue
            }
            let tensor = "tensor \"\(key.prefix(80))\""
            guard case let .object(fields) = value else {
                throw fail("an object describing \(tensor)", value.kind)
            }
            var dtype: String?, shapeValue: JSONValue?, offsetsValue: JSONValue?
            for (field, fieldValue) in fields {
                switch field {
                case "dtype":
                    guard case let .string(s) = fieldValue else {
                        throw fail("a string dtype for \(tensor)", fieldValue.kind)
                    }
                    dtype = s
                case "shape": shapeValue = fieldValue
                case "data_offsets": offsetsValue = fieldValue
                default:
                    throw fail("only dtype, shape and data_offsets for \(tensor)", "a field \"\(field.prefix(40))\"")
                }
            }
            guard let dtype, let shapeValue, let offsetsValue else {
                throw fail("dtype, shape and data_offsets for \(tensor)", "a missing field")
            }
            guard dtype == "F32" else {
                throw fail("dtype F32 for \(tensor) (the only dtype Peregrine reads)", "dtype \(dtype.prefix(20))")
            }
            guard case let .array(dims) = shapeValue else {
                throw fail("an array shape for \(tensor)", shapeValue.kind)
            }
            var shape: [Int] = []
            var count = 1
            for dim in dims {
                guard let d = dim.nonNegativeInteger else {
                    throw fail("non-negative integer dimensions for \(tensor)", dim.kind)
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= Int(UInt32.max) else {
                    throw fail("a shape of at most \(UInt32.max) elements for \(tensor)", "shape \(dims.map { $0.nonNegativeInteger ?? -1 })")
                }
                shape.append(d)
                count = product
            }
            guard shape.count <= Int(CK_MAX_RANK) else {
                throw fail("a rank of at most \(CK_MAX_RANK) for \(tensor)", "shape \(shape)")
            }
            guard case let .array(offsets) = offsetsValue, offsets.count == 2,
                  let begin = offsets[0].nonNegativeInteger, let end = offsets[1].nonNegativeInteger,
                  begin <= end
            else {
                throw fail("data_offsets [begin, end] with 0 <= begin <= end for \(tensor)", offsetsValue.kind)
            }
            guard end <= dataSize else {
                throw fail("data_offsets within the \(dataSize) data bytes for \(tensor)", "[\(begin), \(end)]")
            }
            guard end - begin == 4 * count else {
                throw fail("\(4 * count) bytes (F32, shape \(shape)) for \(tensor)",
                           "data_offsets [\(begin), \(end)] (\(end - begin) bytes)")
            }
            entries.append(Entry(name: key, shape: shape, begin: begin, end: end, position: position))
        }

        // The data must be tiled exactly: no overlaps (two tensors sharing bytes) and no holes
        // (bytes belonging to nothing), as the Python package requires.
        entries.sort { ($0.begin, $0.end, $0.position) < ($1.begin, $1.end, $1.position) }
        var covered = 0
        for entry in entries {
            guard entry.begin == covered else {
                throw fail(
                    "tensors that tile the data without overlaps or holes",
                    entry.begin < covered
                        ? "tensor \"\(entry.name.prefix(80))\" at [\(entry.begin), \(entry.end)] overlaps the one before it (ending at \(covered))"
                        : "a hole at data bytes [\(covered), \(entry.begin)) before tensor \"\(entry.name.prefix(80))\"")
            }
            covered = entry.end
        }
        guard covered == dataSize else {
            throw fail("tensors that tile the data without overlaps or holes",
                       "\(dataSize - covered) data bytes after the last tensor")
        }

        var tensors: [String: Tensor] = [:]
        bytes.withUnsafeBytes { raw in
            for entry in entries {
                let tensor = Tensor(uninitializedShape: entry.shape)
                if entry.end > entry.begin {
                    memcpy(tensor.pointer, raw.baseAddress! + dataStart + entry.begin, entry.end - entry.begin)
                }
                tensors[entry.name] = tensor
            }
        }
        return Contents(tensors: tensors, names: entries.map(\.name), metadata: metadata)
    }
}

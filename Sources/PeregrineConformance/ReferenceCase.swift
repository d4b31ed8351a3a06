import Foundation
import Peregrine

/// A tensor as a reference case stores it: a shape and row-major values (`FORMAT.md`).
///
/// ```swift
/// let t = ReferenceTensor(shape: [2], values: [1, 2])
/// t.count   // 2
/// ```
public struct ReferenceTensor: Sendable, Equatable {
    /// The dimensions; `[]` for a scalar.
    public var shape: [Int]
    /// The values in row-major order (integers converted exactly, they are small labels).
    public var values: [Float]
    /// Whether the case declared `"dtype": "int32"`.
    public var isInteger: Bool
    /// The Keras name of a weight, when the tensor is one.
    public var name: String?
    /// Whether a weight is trainable (true when not said).
    public var trainable: Bool

    /// A float tensor.
    public init(
        shape: [Int], values: [Float], isInteger: Bool = false, name: String? = nil,
        trainable: Bool = true
    ) {
        self.shape = shape
        self.values = values
        self.isInteger = isInteger
        self.name = name
        self.trainable = trainable
    }

    /// The number of elements the shape holds.
    public var count: Int { shape.reduce(1, *) }
}

/// Why a reference case could not be read: names the case, the field and what was wrong.
public struct ReferenceCaseError: Error, CustomStringConvertible, Sendable {
    /// The explanation.
    public var description: String
}

/// One case file of `keras-reference/`, read generically and viewed through typed accessors.
///
/// ```swift
/// let c = try ReferenceCase(contentsOf: URL(fileURLWithPath: "keras-reference/exp.json"))
/// c.kind            // "op"
/// try c.tensors("inputs")[0].shape
/// ```
public struct ReferenceCase: Sendable {
    /// The case's name (its file name without `.json` when the file names none).
    public let name: String
    /// `op`, `loss`, `optimizer`, `layer` or `training`.
    public let kind: String
    /// The whole document.
    public let json: JSONValue
    /// Relative tolerance for comparisons (default 1e-4).
    public let rtol: Double
    /// Absolute tolerance for comparisons (default 1e-5).
    public let atol: Double

    /// Reads and decodes one case file.
    public init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        let fallbackName = url.deletingPathExtension().lastPathComponent
        let json: JSONValue
        do {
            json = try JSONValue(parsing: [UInt8](data))
        } catch {
            throw ReferenceCaseError(description: "\(fallbackName): not valid JSON (\(error))")
        }
        try self.init(json: json, fallbackName: fallbackName)
    }

    /// Wraps a decoded document.
    public init(json: JSONValue, fallbackName: String) throws {
        self.json = json
        self.name = json["name"]?.string ?? fallbackName
        guard let kind = json["kind"]?.string else {
            throw ReferenceCaseError(description: "\(name): expected a string field 'kind'")
        }
        self.kind = kind
        self.rtol = json["tolerance"]?["rtol"]?.number ?? 1e-4
        self.atol = json["tolerance"]?["atol"]?.number ?? 1e-5
    }

    /// A required string field.
    public func string(_ key: String) throws -> String {
        guard let value = json[key]?.string else {
            throw ReferenceCaseError(description: "\(name): expected a string field '\(key)'")
        }
        return value
    }

    /// The `config` object (empty when absent).
    public var config: JSONValue { json["config"] ?? .object([]) }

    /// A list of tensors, e.g. `inputs`; `null` entries ("no gradient") become nil.
    public func optionalTensors(_ key: String) throws -> [ReferenceTensor?] {
        guard let list = json[key]?.array else {
            throw ReferenceCaseError(description: "\(name): expected a list field '\(key)'")
        }
        return try list.enumerated().map { index, value in
            value.isNull ? nil : try tensor(value, field: "\(key)[\(index)]")
        }
    }

    /// A list of tensors with no `null` entries.
    public func tensors(_ key: String) throws -> [ReferenceTensor] {
        try optionalTensors(key).enumerated().map { index, tensor in
            guard let tensor else {
                throw ReferenceCaseError(description: "\(name): \(key)[\(index)] is null")
            }
            return tensor
        }
    }

    /// A list of lists of tensors, e.g. an optimizer's `gradients[step][variable]`.
    public func tensorLists(_ key: String) throws -> [[ReferenceTensor]] {
        guard let steps = json[key]?.array else {
            throw ReferenceCaseError(description: "\(name): expected a list field '\(key)'")
        }
        return try steps.enumerated().map { step, value in
            guard let list = value.array else {
                throw ReferenceCaseError(description: "\(name): \(key)[\(step)] is not a list")
            }
            return try list.enumerated().map { index, item in
                try tensor(item, field: "\(key)[\(step)][\(index)]")
            }
        }
    }

    /// Decodes one `{"shape": …, "data": …}` object and checks that the two agree.
    public func tensor(_ value: JSONValue, field: String) throws -> ReferenceTensor {
        guard let shapeValues = value["shape"]?.array, let data = value["data"]?.array else {
            throw ReferenceCaseError(description: "\(name): \(field) is not a {shape, data} tensor")
        }
        let shape = shapeValues.compactMap { $0.number.map { Int($0) } }
        let values = data.compactMap { $0.number.map { Float($0) } }
        guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }),
            values.count == data.count, values.count == shape.reduce(1, *)
        else {
            throw ReferenceCaseError(
                description: "\(name): \(field) has shape \(shapeValues.count) dims and "
                    + "\(data.count) values that do not agree")
        }
        return ReferenceTensor(
            shape: shape, values: values, isInteger: value["dtype"]?.string == "int32",
            name: value["name"]?.string, trainable: value["trainable"]?.bool ?? true)
    }
}

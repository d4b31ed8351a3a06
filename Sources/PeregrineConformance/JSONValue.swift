import Foundation

/// A decoded JSON document of any shape: the reference cases mix kinds whose fields differ, so
/// they are read generically and then viewed through typed accessors (``ReferenceCase``).
///
/// ```swift
/// let value = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"a": [1, null]}"#.utf8))
/// value["a"]?[0]?.number   // 1.0
/// ```
public enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)  // first: almost every value in a case file is a number
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// Element `index` of an array, or nil.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let elements) = self, elements.indices.contains(index) {
            return elements[index]
        }
        return nil
    }

    /// The number, or nil for anything else.
    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The string, or nil for anything else.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The boolean, or nil for anything else.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements of an array, or nil for anything else.
    public var array: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is JSON `null`.
    public var isNull: Bool { self == .null }
}

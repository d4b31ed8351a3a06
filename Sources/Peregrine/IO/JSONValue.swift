/// A JSON document, kept as written: object members in file order (duplicate keys are a parse
/// error), numbers as their source text (so integers above 2^53 and floats such as `0.99`
/// survive a round trip exactly). Peregrine reads safetensors headers, model architectures
/// (``Model/load(from:)``) and Keras layer configs (``Layer/fromKerasConfig(className:config:)``)
/// with it.
///
/// A small strict parser (RFC 8259) rather than Foundation's: headers come from untrusted
/// files, so nesting depth is bounded (no stack overflow from `[[[[…`), integers are read
/// exactly (no trip through Double: offsets above 2^53 must fail, not round), and every error
/// carries the byte offset where it happened.
///
/// ```swift
/// let value = try JSONValue(parsing: #"{"units": 64, "activation": "relu", "bias": [1.5, null]}"#)
/// value["units"]?.int            // 64
/// value["bias"]?[0]?.number      // 1.5
/// value["bias"]?[1]?.isNull      // true
/// let config: JSONValue = ["units": 64, "use_bias": true]
/// config.serialized              // {"units":64,"use_bias":true}
/// ```
public enum JSONValue: Equatable, Sendable, CustomStringConvertible {
    /// An object: its members in order.
    case object([(key: String, value: JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string.
    case string(String)
    /// A number, as its JSON text (`"64"`, `"0.99"`, `"-1e-05"`).
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// Structural equality; numbers compare by their text, objects in member order.
    ///
    /// ```swift
    /// JSONValue(3) == .number("3")   // true
    /// ```
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(a), .array(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    // MARK: - Parsing and writing

    /// Parses UTF-8 JSON text (surrounding whitespace allowed); throws ``PeregrineError``
    /// naming the problem and its byte offset.
    ///
    /// ```swift
    /// let value = try JSONValue(parsing: Array(#"[1, 2]"#.utf8))
    /// ```
    public init(parsing bytes: [UInt8]) throws {
        do {
            self = try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
                try JSONParser.parse(buffer)
            }
        } catch {
            throw PeregrineError.invalidArgument(
                operation: "JSON", expected: "valid JSON", actual: "\(error.message) at byte \(error.offset)")
        }
    }

    /// Parses JSON text.
    ///
    /// ```swift
    /// let value = try JSONValue(parsing: #"{"name": "dense"}"#)
    /// ```
    public init(parsing text: String) throws {
        try self.init(parsing: Array(text.utf8))
    }

    /// Compact JSON text (no spaces), members in order; parsing it gives the value back.
    ///
    /// ```swift
    /// JSONValue.array([1, "a", nil]).serialized   // [1,"a",null]
    /// ```
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// The compact JSON text (``serialized``).
    ///
    /// ```swift
    /// print(JSONValue(true))   // true
    /// ```
    public var description: String { serialized }

    private func write(to out: inout String) {
        switch self {
        case let .object(members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                out += JSONValue.quoted(member.key) + ":"
                member.value.write(to: &out)
            }
            out += "}"
        case let .array(elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case let .string(s): out += JSONValue.quoted(s)
        case let .number(n): out += n
        case let .bool(b): out += b ? "true" : "false"
        case .null: out += "null"
        }
    }

    // MARK: - Making values

    /// A number from an integer.
    ///
    /// ```swift
    /// JSONValue(64).serialized   // 64
    /// ```
    public init(_ value: Int) { self = .number(String(value)) }

    /// A number from a Float, written with Float's shortest round-trip digits (`0.99`, not
    /// `0.9900000095367432`); NaN and infinities, which JSON cannot hold, become `null`.
    ///
    /// ```swift
    /// JSONValue(Float(0.99)).serialized   // 0.99
    /// ```
    public init(_ value: Float) { self = value.isFinite ? .number("\(value)") : .null }

    /// A number from a Double (`null` when not finite).
    ///
    /// ```swift
    /// JSONValue(0.5).serialized   // 0.5
    /// ```
    public init(_ value: Double) { self = value.isFinite ? .number("\(value)") : .null }

    /// A string.
    ///
    /// ```swift
    /// JSONValue("relu").serialized   // "relu"
    /// ```
    public init(_ value: String) { self = .string(value) }

    /// A boolean.
    ///
    /// ```swift
    /// JSONValue(false).serialized   // false
    /// ```
    public init(_ value: Bool) { self = .bool(value) }

    // MARK: - Reading values

    /// The member `key` of an object (nil for a missing key or a non-object).
    ///
    /// ```swift
    /// try JSONValue(parsing: #"{"a": 1}"#)["a"]   // .number("1")
    /// ```
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Element `index` of an array (nil out of range or for a non-array).
    ///
    /// ```swift
    /// try JSONValue(parsing: "[7, 8]")[1]?.int   // 8
    /// ```
    public subscript(index: Int) -> JSONValue? {
        guard case let .array(elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The number as a Double (nil for anything else).
    ///
    /// ```swift
    /// JSONValue(0.5).number   // 0.5
    /// ```
    public var number: Double? {
        guard case let .number(text) = self else { return nil }
        return Double(text)
    }

    /// The number as an Int, when it is integral and fits (`3` and `3.0` both give 3).
    ///
    /// ```swift
    /// JSONValue(3).int   // 3
    /// ```
    public var int: Int? {
        guard case let .number(text) = self else { return nil }
        if let exact = Int(text) { return exact }
        guard let value = Double(text), value == value.rounded(), abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    /// The string (nil for anything else).
    ///
    /// ```swift
    /// JSONValue("same").string   // "same"
    /// ```
    public var string: String? {
        guard case let .string(value) = self else { return nil }
        return value
    }

    /// The boolean (nil for anything else).
    ///
    /// ```swift
    /// JSONValue(true).bool   // true
    /// ```
    public var bool: Bool? {
        guard case let .bool(value) = self else { return nil }
        return value
    }

    /// The elements of an array (nil for anything else).
    ///
    /// ```swift
    /// try JSONValue(parsing: "[1, 2]").array?.count   // 2
    /// ```
    public var array: [JSONValue]? {
        guard case let .array(elements) = self else { return nil }
        return elements
    }

    /// The members of an object, in order (nil for anything else).
    ///
    /// ```swift
    /// try JSONValue(parsing: #"{"a": 1}"#).members?.map(\.key)   // ["a"]
    /// ```
    public var members: [(key: String, value: JSONValue)]? {
        guard case let .object(members) = self else { return nil }
        return members
    }

    /// Whether this is `null`.
    ///
    /// ```swift
    /// JSONValue.null.isNull   // true
    /// ```
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as a non-negative integer, when it is a number written as plain digits that
    /// fits in `Int`.
    var nonNegativeInteger: Int? {
        guard case let .number(text) = self, !text.isEmpty,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(text)   // nil on overflow
    }

    /// A short description of the kind of value, for error messages (`the string "relu"`).
    ///
    /// ```swift
    /// JSONValue(3).kind   // "the number 3"
    /// ```
    public var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case let .string(s): "the string \"\(s.prefix(40))\""
        case let .number(n): "the number \(n.prefix(40))"
        case let .bool(b): "\(b)"
        case .null: "null"
        }
    }

    /// JSON text for a string: quoted, with `"`, `\` and control characters escaped.
    ///
    /// ```swift
    /// JSONValue.quoted("say \"hi\"")   // the 12 characters "say \"hi\"" (quotes included)
    /// ```
    public static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// `let v: JSONValue = "relu"`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `let v: JSONValue = 64`.
    public init(integerLiteral value: Int) { self.init(value) }
    /// `let v: JSONValue = 0.5`.
    public init(floatLiteral value: Double) { self.init(value) }
    /// `let v: JSONValue = true`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `let v: JSONValue = nil` is `null`.
    public init(nilLiteral: ()) { self = .null }
    /// `let v: JSONValue = [1, "a", nil]`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// `let v: JSONValue = ["units": 64, "name": "dense"]`: an object, members in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
}

/// A JSON syntax error: what was wrong and the byte offset.
struct JSONSyntaxError: Error {
    let message: String
    let offset: Int
}

/// The strict recursive-descent parser behind ``JSONValue``.
struct JSONParser {
    static let maximumDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    /// Parses one JSON value filling `bytes` (surrounding whitespace allowed).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: index)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 }
    }

    private mutating func expect(_ literal: String) throws(JSONSyntaxError) {
        for c in literal.utf8 {
            guard current == c else { throw error("invalid literal (expected \(literal))") }
            index += 1
        }
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard let c = current else { throw error("unexpected end of the JSON text") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(printable(c))'")
        }
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= JSONParser.maximumDepth else {
            throw error("nesting deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if current == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = index
            let key = try parseString()
            guard seen.insert(key).inserted else {
                throw JSONSyntaxError(message: "duplicate key \"\(key.prefix(40))\"", offset: keyOffset)
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.index
            while let c = p.current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { p.index += 1 }
            return p.index - s
        }
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else if digits(&self) == 0 {
            throw error("invalid number")
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1   // the opening quote
        var utf8: [UInt8] = []
        while true {
            guard let c = current else { throw error("unterminated string") }
            index += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw error("string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                guard let e = current else { throw error("unterminated string") }
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalar) {   // a high surrogate: a low one must follow
                        guard current == UInt8(ascii: "\\") else { throw error("unpaired surrogate") }
                        index += 1
                        guard current == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                        index += 1
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired surrogate")
                    }
                    utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default: throw error("invalid escape '\\\(printable(e))'")
                }
            case 0..<0x20:
                throw error("control character in a string")
            default:
                utf8.append(c)
            }
        }
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current, let digit = hexDigit(c) else { throw error("invalid \\u escape") }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func printable(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "0x" + String(c, radix: 16)
    }
}

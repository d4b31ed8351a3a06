/// The one error type Peregrine throws: bad input is a thrown error that names the operation,
/// what it expected and what it got — never a crash, never a silent broadcast.
///
/// ```swift
/// do {
///     _ = try Tensor.zeros([2, 3]) + Tensor.zeros([4])
/// } catch let error as PeregrineError {
///     print(error)   // add: shapes [2, 3] and [4] are not broadcastable
/// }
/// ```
public enum PeregrineError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Two shapes that NumPy's broadcasting rules cannot combine.
    ///
    /// ```swift
    /// PeregrineError.incompatibleShapes(operation: "add", lhs: [2, 3], rhs: [4]).description
    /// // "add: shapes [2, 3] and [4] are not broadcastable"
    /// ```
    case incompatibleShapes(operation: String, lhs: [Int], rhs: [Int])

    /// A tensor whose shape is not the one the operation needs.
    ///
    /// ```swift
    /// PeregrineError.shapeMismatch(operation: "Dense", expected: [-1, 4], actual: [2, 3]).description
    /// // "Dense: expected shape [-1, 4], got [2, 3]"
    /// ```
    case shapeMismatch(operation: String, expected: [Int], actual: [Int])

    /// An axis outside `-rank..<rank`.
    ///
    /// ```swift
    /// PeregrineError.axisOutOfRange(operation: "sum", axis: 2, rank: 2).description
    /// // "sum: expected an axis in -2..<2 for a rank-2 tensor, got 2"
    /// ```
    case axisOutOfRange(operation: String, axis: Int, rank: Int)

    /// Any other argument that is not what the operation expects, described in words.
    ///
    /// ```swift
    /// PeregrineError.invalidArgument(operation: "reshape", expected: "6 scalars", actual: "[4, 2] (8 scalars)")
    ///     .description   // "reshape: expected 6 scalars, got [4, 2] (8 scalars)"
    /// ```
    case invalidArgument(operation: String, expected: String, actual: String)

    /// The message, starting with the operation's name.
    ///
    /// ```swift
    /// print(error)   // "matmul: expected b with 3 rows (a is [2, 3]), got [4, 5]"
    /// ```
    public var description: String {
        switch self {
        case let .incompatibleShapes(operation, lhs, rhs):
            return "\(operation): shapes \(lhs) and \(rhs) are not broadcastable"
        case let .shapeMismatch(operation, expected, actual):
            return "\(operation): expected shape \(expected), got \(actual)"
        case let .axisOutOfRange(operation, axis, rank):
            return "\(operation): expected an axis in \(-rank)..<\(rank) for a rank-\(rank) tensor, got \(axis)"
        case let .invalidArgument(operation, expected, actual):
            return "\(operation): expected \(expected), got \(actual)"
        }
    }
}

/// A bound on the scalars that layers may allocate for their weights while a model is rebuilt
/// from an architecture that came from outside (a saved file, a config from the network).
///
/// An architecture is untrusted text: `{"class_name": "Dense", "config": {"units": 1000000000}}`
/// would otherwise ask ``Layer/addWeight(_:shape:initializer:trainable:)`` for terabytes, and
/// the allocation would end the process instead of throwing. ``Model/load(from:)`` sets the
/// budget to the number of scalars the file actually holds; ``Model/fromKerasArchitecture(_:maxWeightElements:)``
/// takes one from its caller.
///
/// ```swift
/// try WeightBudget.withLimit(1 << 20, source: "config.json") {
///     try Model.fromKerasArchitecture(architecture)
/// }
/// ```
enum WeightBudget {
    /// The scalars still allowed, and where the limit comes from (for the error message).
    final class Account: @unchecked Sendable {
        // @unchecked: an account belongs to the one task that rebuilds a model; layers are built
        // sequentially inside it.
        let limit: Int
        let source: String
        var used = 0

        init(limit: Int, source: String) {
            self.limit = limit
            self.source = source
        }
    }

    @TaskLocal static var account: Account?

    /// Runs `body` with at most `limit` weight scalars allowed in all.
    static func withLimit<T>(_ limit: Int, source: String, _ body: () throws -> T) rethrows -> T {
        try $account.withValue(Account(limit: limit, source: source), operation: body)
    }

    /// The scalars of a weight of `shape`, charged to the current budget (if any). Throws for a
    /// negative dimension, a size that overflows `Int`, or a size beyond the budget.
    static func charge(shape: [Int], weight: String) throws -> Int {
        var elements = 1
        for dimension in shape {
            guard dimension >= 0 else {
                throw PeregrineError.invalidArgument(
                    operation: weight, expected: "non-negative dimensions", actual: "shape \(shape)")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw PeregrineError.invalidArgument(
                    operation: weight, expected: "a shape whose size fits in memory", actual: "shape \(shape)")
            }
            elements = product
        }
        guard let account else { return elements }
        guard elements <= account.limit - account.used else {
            throw PeregrineError.invalidArgument(
                operation: weight,
                expected: "at most \(account.limit) weight scalars in all (\(account.source))",
                actual: "shape \(shape), \(elements) scalars after \(account.used) already allocated")
        }
        account.used += elements
        return elements
    }
}

/// Keras's `validation_split`: the last `validationSplit` fraction of the rows becomes the
/// validation set, before any shuffling (as in `fit(x, y, validation_split: 0.2)`).
///
/// Exactly Keras's arithmetic: `splitAt = floor(N · (1 − validationSplit))` in double
/// precision, training rows `[0, splitAt)`, validation rows `[splitAt, N)`. Throws when
/// `validationSplit` is not in (0, 1), x and y differ in rows, or either part would be empty.
///
/// ```swift
/// let (train, validation) = try trainValidationSplit(x, y, validationSplit: 0.2)
/// // 10 rows: train.x has rows 0..<8, validation.x rows 8..<10
/// ```
public func trainValidationSplit(_ x: Tensor, _ y: Tensor, validationSplit: Double) throws
    -> (train: (x: Tensor, y: Tensor), validation: (x: Tensor, y: Tensor))
{
    let operation = "trainValidationSplit"
    guard validationSplit > 0, validationSplit < 1 else {
        throw PeregrineError.invalidArgument(
            operation: operation, expected: "validationSplit in (0, 1)", actual: "\(validationSplit)")
    }
    guard x.rank >= 1, y.rank >= 1, x.shape[0] == y.shape[0] else {
        throw PeregrineError.invalidArgument(
            operation: operation, expected: "x and y with the same number of rows",
            actual: "x \(x.shape), y \(y.shape)")
    }
    let count = x.shape[0]
    let splitAt = Int((Double(count) * (1.0 - validationSplit)).rounded(.down))
    guard splitAt > 0, splitAt < count else {
        throw PeregrineError.invalidArgument(
            operation: operation,
            expected: "a split that leaves rows for both training and validation",
            actual: "validationSplit \(validationSplit) of \(count) rows (split at \(splitAt))")
    }
    return ((try x[0..<splitAt], try y[0..<splitAt]), (try x[splitAt..<count], try y[splitAt..<count]))
}

/// What `fit` returns: every logged value per epoch (Keras's `History`).
///
/// ```swift
/// let history = try model.fit(x, y, epochs: 3)
/// history.history["loss"]   // [0.71, 0.52, 0.44]
/// ```
public final class History: @unchecked Sendable {
    /// key → one value per epoch (`loss`, `accuracy`, `val_loss`, …).
    public internal(set) var history: [String: [Float]] = [:]
    /// The epochs run, from 0.
    public internal(set) var epoch: [Int] = []
    /// `epochs` and `steps` of the run.
    public internal(set) var params: [String: Int] = [:]

    init() {}

    func record(epoch index: Int, logs: [String: Float]) {
        epoch.append(index)
        for (key, value) in logs { history[key, default: []].append(value) }
    }
}

/// The logits behind probabilities made by `sigmoid` or `softmax` (over the last axis).
///
/// Keras attaches them to such outputs (`_keras_logits`), and its cross-entropies then compute
/// from the logits — exact and unclipped — whatever `fromLogits` says. A faithful port must do
/// the same: a Dense-sigmoid output with logit 30 and label 0 gives a loss of 30, not the 15.94
/// that clipping the probability would give.
final class KerasLogits: Sendable {
    /// Which activation made the probabilities.
    enum Activation: Sendable { case sigmoid, softmax }

    let logits: Tensor
    let activation: Activation

    init(_ logits: Tensor, activation: Activation) {
        self.logits = logits
        self.activation = activation
    }
}

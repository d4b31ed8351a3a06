/// A model's ``TrainingPlan``s, one per batch shape (a `fit` epoch has two: its full batches and
/// the last, shorter one), and the shapes found not plannable. Emptied by `compile` and by
/// `Sequential.add`; a plan that no longer fits its model (a layer frozen since) is dropped.
///
/// ```swift
/// if let plan = model.trainingPlans.plan(for: model, training: config, x: xb, y: yb) { … }
/// ```
struct TrainingPlanCache {
    /// At most this many plans are kept (each holds a batch's activations).
    static let capacity = 2

    private var plans: [[Int]: TrainingPlan] = [:]
    private var unplannable: Set<[Int]> = []

    /// The plan for batches shaped like `x` (built on first use), or nil: the model trains on the tape.
    mutating func plan(for model: Model, training: TrainingConfiguration, x: [Tensor], y: [Tensor]) -> TrainingPlan? {
        // The numerics check wants every layer's output by name: the tape's job.
        guard TrainingPlan.isEnabled, model.usesTrainingPlans, !NumericsCheck.isOn, x.count == 1, y.count == 1
        else { return nil }
        let shape = x[0].shape
        if let plan = plans[shape] {
            if plan.fits(x[0], y[0], model: model) { return plan }
            plans[shape] = nil
        }
        // A model is built by its first batch, which therefore runs on the tape.
        // (The layers are looked up only here: a functional model lists them anew each time.)
        guard !unplannable.contains(shape), let layers = model.plannableLayers, layers.allSatisfy(\.isBuilt)
        else { return nil }
        guard let plan = TrainingPlan(model: model, layers: layers, training: training, x: x[0], y: y[0]) else {
            unplannable.insert(shape)
            return nil
        }
        if plans.count >= Self.capacity { plans.removeAll() }
        plans[shape] = plan
        return plan
    }

    /// The plans held.
    var count: Int { plans.count }

    /// Forgets every plan (the model or its compilation changed).
    mutating func removeAll() {
        plans = [:]
        unplannable = []
    }
}

import Peregrine

/// `kind: "optimizer"`: start from `weights`, apply `gradients[s]` at each step s, and compare
/// every variable with `trajectory[s]`.
enum OptimizerCases {
    static func run(_ c: ReferenceCase) throws -> CaseResult {
        let optimizer = try makeOptimizer(c.string("optimizer"), config: c.config)
        let variables = try c.tensors("weights").enumerated().map { index, weight in
            Variable(try tensor(weight), name: weight.name ?? "variable_\(index)")
        }
        let gradients = try c.tensorLists("gradients")
        let trajectory = try c.tensorLists("trajectory")
        guard gradients.count == trajectory.count else {
            throw ReferenceCaseError(description: "\(c.name): gradients and trajectory differ in length")
        }
        for (step, (stepGradients, expected)) in zip(gradients, trajectory).enumerated() {
            try optimizer.apply(stepGradients.map { try tensor($0) }, to: variables)
            for (index, (variable, want)) in zip(variables, expected).enumerated() {
                if let mismatch = Mismatch.compare(
                    got: variable.value.scalars, shape: variable.shape, want: want, rtol: c.rtol,
                    atol: c.atol, what: "trajectory[\(step)][\(index)]")
                {
                    return .fail(mismatch.description)
                }
            }
        }
        return .pass
    }

    /// The optimizer a Keras class name and config describe; unknown names and arguments are
    /// errors, so a case never silently runs with defaults it did not ask for.
    static func makeOptimizer(_ name: String, config: JSONValue) throws -> Optimizer {
        func double(_ key: String) -> Double? { config[key]?.number }
        func float(_ key: String) -> Float? { double(key).map(Float.init) }
        let lr = LearningRate.constant(float("learning_rate") ?? 0.001)
        let (wd, clipnorm, clipvalue, global) =
            (float("weight_decay"), float("clipnorm"), float("clipvalue"), float("global_clipnorm"))
        switch name {
        case "SGD":
            return try SGD(
                learningRate: lr, momentum: double("momentum") ?? 0,
                nesterov: config["nesterov"]?.bool ?? false, weightDecay: wd, clipnorm: clipnorm,
                clipvalue: clipvalue, globalClipnorm: global)
        case "Adam", "AdamW":
            let beta1 = double("beta_1") ?? 0.9, beta2 = double("beta_2") ?? 0.999
            let epsilon = float("epsilon") ?? 1e-7, amsgrad = config["amsgrad"]?.bool ?? false
            if name == "AdamW" {
                return try AdamW(
                    learningRate: lr, weightDecay: wd ?? 0.004, beta1: beta1, beta2: beta2,
                    epsilon: epsilon, amsgrad: amsgrad, clipnorm: clipnorm, clipvalue: clipvalue,
                    globalClipnorm: global)
            }
            return try Adam(
                learningRate: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad,
                weightDecay: wd, clipnorm: clipnorm, clipvalue: clipvalue, globalClipnorm: global)
        case "RMSprop":
            return try RMSprop(
                learningRate: lr, rho: double("rho") ?? 0.9, momentum: double("momentum") ?? 0,
                epsilon: float("epsilon") ?? 1e-7, centered: config["centered"]?.bool ?? false,
                weightDecay: wd, clipnorm: clipnorm, clipvalue: clipvalue, globalClipnorm: global)
        case "Adagrad":
            return try Adagrad(
                learningRate: lr,
                initialAccumulatorValue: float("initial_accumulator_value") ?? 0.1,
                epsilon: float("epsilon") ?? 1e-7, weightDecay: wd, clipnorm: clipnorm,
                clipvalue: clipvalue, globalClipnorm: global)
        default:
            throw ReferenceCaseError(description: "unknown optimizer '\(name)'")
        }
    }
}

/// A reference tensor as a Peregrine tensor (float; integer labels become exact floats).
func tensor(_ reference: ReferenceTensor) throws -> Tensor {
    try Tensor(shape: reference.shape, scalars: reference.values)
}

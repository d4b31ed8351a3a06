import CKernels

/// The learning rate of an optimizer: a constant or a schedule evaluated at each step.
///
/// ```swift
/// let a: LearningRate = 0.01
/// let b = LearningRate.schedule(ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9))
/// ```
public enum LearningRate: Sendable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    case constant(Float)
    case schedule(any LearningRateSchedule)

    public init(floatLiteral value: Float) { self = .constant(value) }
    public init(integerLiteral value: Int) { self = .constant(Float(value)) }

    /// The rate for the update made at `step`.
    public func value(at step: Int) -> Float {
        switch self {
        case .constant(let lr): lr
        case .schedule(let schedule): schedule(step: step)
        }
    }
}

/// What every optimizer shares, in Keras's order of operations (KERAS_SPEC §5): slots built on
/// first use, gradient clipping (one of clipnorm, clipvalue, globalClipnorm), decoupled weight
/// decay with the current learning rate, the update rule (one fused C pass per variable), then
/// `iterations += 1`.
///
/// Subclasses (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``) provide the slots and the
/// update rule.
///
/// ```swift
/// let optimizer = SGD(learningRate: 0.1)
/// try optimizer.apply([dw, db], to: [w, b])
/// optimizer.iterations   // 1
/// ```
open class Optimizer: @unchecked Sendable {
    // @unchecked: an optimizer is mutable training state used by one training loop at a time.

    /// The learning rate or schedule.
    public var learningRate: LearningRate
    /// Decoupled weight decay (applied to every trainable variable), or nil.
    public let weightDecay: Float?
    /// Per-tensor gradient norm clip, or nil.
    public let clipnorm: Float?
    /// Element-wise gradient clip to [-clipvalue, clipvalue], or nil.
    public let clipvalue: Float?
    /// Clip on the norm of all gradients together, or nil.
    public let globalClipnorm: Float?
    /// Updates applied so far (Keras's `iterations`).
    public private(set) var iterations = 0

    /// Slot tensors of each variable (momentum, moments, …), created on first update.
    var slots: [ObjectIdentifier: [Tensor]] = [:]
    /// The variables the slots belong to, kept alive so their identifiers stay theirs.
    private var slotOwners: [ObjectIdentifier: Variable] = [:]
    /// Each variable's slot buffers as the last `apply` found them: passed to `update` again
    /// while they stay put, instead of a new array per variable and step.
    private var slotPointers: [ObjectIdentifier: [UnsafeMutablePointer<Float>]] = [:]

    /// Sets the arguments every optimizer takes; at most one clip may be given.
    public init(
        learningRate: LearningRate, weightDecay: Float? = nil, clipnorm: Float? = nil,
        clipvalue: Float? = nil, globalClipnorm: Float? = nil
    ) throws {
        let clips = [clipnorm, clipvalue, globalClipnorm].compactMap { $0 }
        guard clips.count <= 1 else {
            throw PeregrineError.invalidArgument(
                operation: "\(Self.self)", expected: "at most one of clipnorm, clipvalue, globalClipnorm",
                actual: "\(clips.count) of them")
        }
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.globalClipnorm = globalClipnorm
    }

    /// The learning rate the next update will use.
    ///
    /// ```swift
    /// optimizer.currentLearningRate   // 0.01
    /// ```
    public var currentLearningRate: Float { learningRate.value(at: iterations) }

    /// How many slot tensors (each of the variable's shape) the update rule keeps per variable,
    /// and their initial value.
    open var slotCount: Int { 0 }
    open var slotInitialValue: Float { 0 }

    /// The update rule: one fused pass over `variable` (pointer `w`, `count` elements), its
    /// gradient and its slots. `t` is the 1-based step.
    open func update(
        _ w: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>], count: Int, learningRate: Float, step t: Int
    ) {
        fatalError("\(Self.self) must override update(_:gradient:slots:count:learningRate:step:)")
    }

    /// Applies one update to each variable with a gradient; `nil` gradients are skipped (as
    /// Keras drops them), and all of them nil is an error.
    ///
    /// ```swift
    /// try optimizer.apply(tape.gradient(loss, [w, b]), to: [w, b])
    /// ```
    public func apply(_ gradients: [Tensor?], to variables: [Variable]) throws {
        guard gradients.count == variables.count else {
            throw PeregrineError.invalidArgument(
                operation: "\(Self.self).apply", expected: "one gradient per variable (\(variables.count))",
                actual: "\(gradients.count) gradients")
        }
        // Checked before anything changes; written without temporary arrays, so that a warm
        // step (a TrainingPlan's) allocates nothing here either.
        var present = 0
        for (gradient, variable) in zip(gradients, variables) {
            guard let gradient else { continue }
            guard gradient.shape == variable.shape else {
                throw PeregrineError.shapeMismatch(
                    operation: "\(Self.self).apply: gradient of '\(variable.name)'",
                    expected: variable.shape, actual: gradient.shape)
            }
            present += 1
        }
        guard present > 0 else {
            throw PeregrineError.invalidArgument(
                operation: "\(Self.self).apply", expected: "a gradient for at least one variable",
                actual: "no gradients provided for any variable")
        }

        let clipped = clipnorm == nil && globalClipnorm == nil && clipvalue == nil ? gradients : try clip(gradients)
        let lr = currentLearningRate
        let t = iterations + 1
        for (gradient, variable) in zip(clipped, variables) {
            guard let gradient else { continue }
            let count = gradient.scalarCount
            if let weightDecay, variable.trainable {
                variable.updateInPlace { ck_weight_decay(Int64(count), $0, weightDecay, lr) }
            }
            let id = ObjectIdentifier(variable)
            if slots[id] == nil {
                slots[id] = try (0..<slotCount).map { _ in
                    try Tensor.full(variable.shape, value: slotInitialValue)
                }
                slotOwners[id] = variable
            }
            // Out of the dictionary while written, so the slots' storage is uniquely referenced
            // and the writes below do not copy it.
            var variableSlots = slots.removeValue(forKey: id) ?? []
            var pointers = slotPointers[id] ?? []
            for index in variableSlots.indices {
                let pointer = variableSlots[index].withUnsafeMutableBufferPointer { $0.baseAddress! }
                if index == pointers.count { pointers.append(pointer) } else if pointers[index] != pointer { pointers[index] = pointer }
            }
            slotPointers[id] = pointers
            gradient.withUnsafeBufferPointer { g in
                variable.updateInPlace { w in
                    update(w, gradient: g.baseAddress!, slots: pointers, count: count, learningRate: lr, step: t)
                }
            }
            slots[id] = variableSlots
        }
        iterations += 1
    }

    /// Computes `loss` on a fresh ``GradientTape``, then applies its gradients to `variables`;
    /// returns the loss. Keras's `optimizer.minimize(loss, var_list)`.
    ///
    /// ```swift
    /// let loss = try optimizer.minimize({ try square(matmul(x, w.value) - y).mean() }, variables: [w])
    /// ```
    @discardableResult
    public func minimize(_ loss: () throws -> Tensor, variables: [Variable]) throws -> Tensor {
        let tape = GradientTape()
        let value = try tape.recording { try loss() }
        try apply(tape.gradient(value, variables), to: variables)
        return value
    }

    /// The slot tensors of `variable` (empty before its first update).
    ///
    /// ```swift
    /// let (m, v) = (adam.slots(of: w)[0], adam.slots(of: w)[1])
    /// ```
    public func slots(of variable: Variable) -> [Tensor] {
        slots[ObjectIdentifier(variable)] ?? []
    }

    /// Keras's clipping, as its ops compute it (float32 throughout).
    private func clip(_ optionalGradients: [Tensor?]) throws -> [Tensor?] {
        let gradients = optionalGradients.compactMap { $0 }
        var clipped = try clipPresent(gradients).makeIterator()
        return optionalGradients.map { $0 == nil ? nil : clipped.next() }
    }

    private func clipPresent(_ gradients: [Tensor]) throws -> [Tensor] {
        if let c = clipnorm {
            // clip_by_norm: g·c / max(‖g‖, c)
            return gradients.map { g in
                let norm = Float(g.withUnsafeBufferPointer {
                    ck_sum_of_squares(Int64($0.count), $0.baseAddress)
                }).squareRoot()
                return g * c / Swift.max(norm, c)
            }
        }
        if let c = globalClipnorm {
            // clip_by_global_norm: g · (c · min(1/‖all‖, 1/c))
            let sum = gradients.reduce(Float(0)) { total, g in
                total + Float(g.withUnsafeBufferPointer {
                    ck_sum_of_squares(Int64($0.count), $0.baseAddress)
                })
            }
            let norm = sum.squareRoot()
            let scale = c * Swift.min(1 / norm, 1 / c)
            return gradients.map { $0 * scale }
        }
        if let c = clipvalue {
            return try gradients.map { g in
                try minimum(maximum(g, Tensor(-c)), Tensor(c))
            }
        }
        return gradients
    }
}

/// Float32 of a hyper-parameter expression Keras computes in Python's float64 (e.g. `1 - beta_1`):
/// `(1 - 0.9)` rounds to 0x3DCCCCCD this way, not to `1 - Float(0.9)`.
func kerasFloat(_ value: Double) -> Float { Float(value) }

import Foundation
import Peregrine
import Testing

/// Masks through models (Embedding(maskZero:) into the recurrent layers, Sequential and
/// functional), recurrent dropout (masks drawn once per call and fixed over time, inference
/// untouched, gradients with fixed masks) and stateful carry-over.
struct RecurrentStateAndDropoutTests {
    /// Tokens [2, 6] with trailing padding, and the same rows unpadded as separate batches.
    static let tokens: [Float] = [3, 1, 4, 1, 0, 0, 2, 7, 0, 0, 0, 0]

    static func identity(_ n: Int) throws -> Tensor {
        try Tensor(shape: [n, n], scalars: (0..<n * n).map { $0 / n == $0 % n ? 1 : 0 })
    }

    /// Sequential: Embedding(maskZero) → Dense (passes the mask) → LSTM gives, per row, the LSTM
    /// of the unpadded row — and the mask really reaches the LSTM (without maskZero it does not).
    @Test func embeddingMaskReachesTheRecurrentLayerInSequential() throws {
        for maskZero in [true, false] {
            let embedding = Embedding(inputDim: 8, outputDim: 3, maskZero: maskZero)
            let dense = Dense(units: 5, activation: .tanh)
            let lstm = LSTM(units: 4)
            let model = try Sequential { Input(shape: [6]); embedding; dense; lstm }
            let y = try model.predict(try Tensor(shape: [2, 6], scalars: Self.tokens))
            for (row, length) in [(0, 4), (1, 2)] {
                let unpadded = try Tensor(shape: [1, length], scalars: Array(Self.tokens[row * 6 ..< row * 6 + length]))
                let alone = try lstm(try dense(try embedding(unpadded)))
                let worst = zip(try y.slice([.index(row)]).scalars, alone.scalars).map { abs($0 - $1) }.max()!
                #expect(maskZero ? worst < 1e-6 : worst > 1e-4, "maskZero=\(maskZero) row \(row): \(worst)")
            }
        }
    }

    /// Functional: the mask flows Embedding → LSTM(returnSequences) → GRU; Flatten drops it.
    @Test func maskFlowsThroughAFunctionalGraph() throws {
        let input = Input(shape: [6])
        let embedding = Embedding(inputDim: 8, outputDim: 3, maskZero: true)
        let lstm = LSTM(units: 4, returnSequences: true), gru = GRU(units: 2)
        let model = try Model(inputs: input, outputs: try gru(try lstm(try embedding(input))))
        let y = try model.predict(try Tensor(shape: [2, 6], scalars: Self.tokens))
        let row = try Tensor(shape: [1, 4], scalars: [3, 1, 4, 1])
        let alone = try gru(try lstm(try embedding(row)))
        #expect(zip(try y.slice([.index(0)]).scalars, alone.scalars).allSatisfy { abs($0 - $1) < 1e-6 })

        let flat = Flatten()
        let x = Input(shape: [6])
        let masks = try Model(inputs: x, outputs: try flat(try Embedding(inputDim: 8, outputDim: 3, maskZero: true)(x)))
            .callWithMasks([try Tensor(shape: [2, 6], scalars: Self.tokens)], training: false).masks
        #expect(masks.count == 1 && masks[0] == nil)
    }

    /// SimpleRNN with identity kernel, no recurrence, linear: each step's output is the input
    /// dropout mask itself — 0 or 1/(1 − rate), the same at every step, only while training.
    @Test func inputDropoutMaskIsFixedOverTime() throws {
        let rnn = SimpleRNN(units: 3, activation: .linear, returnSequences: true, dropout: 0.5, seed: 3)
        try rnn.buildIfNeeded(inputShapes: [[6, 3]])
        try rnn.weights[0].assign(try Self.identity(3))
        try rnn.weights[1].assign(try Tensor.zeros([3, 3]))
        let x = try Tensor.ones([8, 6, 3])
        let y = try rnn(x, training: true)
        let first = try y.slice([.all, .index(0)]).scalars
        #expect(Set(first) == [0, 2])
        for t in 1..<6 { #expect(try y.slice([.all, .index(t)]).scalars == first) }
        #expect(try rnn(x, training: false).scalars.allSatisfy { $0 == 1 })
        // A new call draws new masks.
        #expect(try rnn(x, training: true).slice([.all, .index(0)]).scalars != first)
    }

    /// SimpleRNN with identity kernel and recurrent kernel, linear, x = 1: h₁ = m, h₂ = m + h₁·r,
    /// h₃ = m + h₂·r — one recurrent mask r ∈ {0, 2} for every step.
    @Test func recurrentDropoutMaskIsFixedOverTime() throws {
        let rnn = SimpleRNN(units: 3, activation: .linear, returnSequences: true, recurrentDropout: 0.5, seed: 4)
        try rnn.buildIfNeeded(inputShapes: [[3, 3]])
        try rnn.weights[0].assign(try Self.identity(3))
        try rnn.weights[1].assign(try Self.identity(3))
        let y = try rnn(try Tensor.ones([8, 3, 3]), training: true)
        let h1 = try y.slice([.all, .index(0)]).scalars, h2 = try y.slice([.all, .index(1)]).scalars
        let h3 = try y.slice([.all, .index(2)]).scalars
        #expect(h1.allSatisfy { $0 == 1 })
        let r = zip(h2, h1).map { ($0 - 1) / $1 }
        #expect(Set(r) == [0, 2])
        for i in 0..<h3.count { #expect(h3[i] == 1 + h2[i] * r[i]) }
    }

    /// LSTM and GRU with dropout and per-gate recurrent dropout: inference ignores them, training
    /// with a seed is reproducible and differs, and gradients with the masks held fixed (a fresh
    /// layer with the same seed and weights per evaluation) pass the numerical check.
    @Test func perGateDropoutGradients() throws {
        let x = try GradientCheckTests.random([2, 3, 3], seed: 12, in: -1...1)
        let makers: [(String, (Float, Float) -> Layer)] = [
            ("lstm", { d, r in LSTM(units: 4, returnSequences: true, dropout: d, recurrentDropout: r, seed: 9) }),
            ("lstm shared input mask", { d, _ in LSTM(units: 4, dropout: d, seed: 9) }),
            ("gru", { d, r in GRU(units: 4, returnSequences: true, dropout: d, recurrentDropout: r, seed: 9) }),
            ("gru reset before", { d, r in GRU(units: 4, resetAfter: false, dropout: d, recurrentDropout: r, seed: 9) }),
            ("simple_rnn", { d, r in SimpleRNN(units: 4, dropout: d, recurrentDropout: r, seed: 9) }),
        ]
        for (name, make) in makers {
            let reference = try RecurrentLayerTests.prepared(make(0, 0))
            func fresh(_ d: Float, _ r: Float) throws -> Layer {
                let layer = make(d, r)
                try layer.buildIfNeeded(inputShapes: [[3, 3]])
                for (w, v) in zip(layer.weights, reference.weights) { try w.assign(v.value) }
                return layer
            }
            let plain = try reference(x).scalars
            #expect(try fresh(0.4, 0.3)(x, training: false).scalars == plain, "\(name)")
            let a = try fresh(0.4, 0.3)(x, training: true).scalars, b = try fresh(0.4, 0.3)(x, training: true).scalars
            #expect(a == b && a != plain, "\(name)")
            try GradientCheckTests.check("\(name) dropout", [x]) { try fresh(0.4, 0.3)($0[0], training: true) }
        }
    }

    /// stateful: two calls on the halves of a sequence end where one call on the whole does;
    /// resetStates starts over; another batch size is an error.
    @Test func statefulCarriesStatesBetweenCalls() throws {
        let x = try GradientCheckTests.random([2, 6, 3], seed: 13, in: -1...1)
        let first = try x.slice([.all, .strided(from: 0, to: 3, by: 1)])
        let second = try x.slice([.all, .strided(from: 3, to: 6, by: 1)])
        let makers: [(String, (Bool) -> Layer)] = [
            ("lstm", { s in LSTM(units: 4, returnState: true, stateful: s) }),
            ("gru", { s in GRU(units: 4, returnState: true, stateful: s) }),
            ("simple_rnn", { s in SimpleRNN(units: 4, returnState: true, stateful: s) }),
        ]
        for (name, make) in makers {
            let whole = try RecurrentLayerTests.prepared(make(false))
            let stateful = make(true)
            try stateful.buildIfNeeded(inputShapes: [[3, 3]])
            for (w, v) in zip(stateful.weights, whole.weights) { try w.assign(v.value) }
            let once = try whole([x])
            let firstHalf = try stateful([first])
            let twice = try stateful([second])
            for (a, b) in zip(once, twice) {
                #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) < 1e-6 }, "\(name)")
            }
            // Training calls (with a tape) carry states too.
            switch stateful {
            case let l as LSTM: l.resetStates()
            case let l as GRU: l.resetStates()
            case let l as SimpleRNN: l.resetStates()
            default: break
            }
            #expect(try stateful([first])[0].scalars == firstHalf[0].scalars, "\(name) after reset")
            #expect(throws: PeregrineError.self) { _ = try stateful([try Tensor.zeros([3, 3, 3])]) }
        }
    }
}

/// The output mask weights the loss as Keras's: masked time steps drop out of the mean.
struct MaskedLossTests {
    static func model(maskZero: Bool) throws -> Sequential {
        let model = try Sequential {
            Input(shape: [5])
            Embedding(inputDim: 6, outputDim: 3, maskZero: maskZero)
            LSTM(units: 4, returnSequences: true)
            Dense(units: 2)
        }
        for (i, w) in model.weights.enumerated() {
            try w.assign(try Tensor(shape: w.shape, scalars: RecurrentMaskingTests.sines(w.shape.reduce(1, *), Double(3 + i))))
        }
        try model.compile(optimizer: SGD(), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        return model
    }

    /// Keras 3.15.1: evaluate of Embedding(mask_zero) → LSTM(return_sequences) → Dense(2) with
    /// SparseCategoricalCrossentropy(from_logits=True) gives loss 0.7254278659820557 and accuracy
    /// 0.33333331 (2 of the 6 unmasked steps); unmasked 0.7022225 and 0.46666670 (7 of 15).
    @Test func evaluateMatchesKeras() throws {
        let x = try Tensor(shape: [3, 5], scalars: [1, 2, 3, 0, 0, 4, 5, 0, 0, 0, 2, 0, 0, 0, 0])
        let y = try Tensor(shape: [3, 5], scalars: [0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0])
        for (maskZero, want, accuracy) in [(true, Float(0.7254278659820557), Float(2) / 6), (false, Float(0.7022225260734558), Float(7) / 15)] {
            let model = try Self.model(maskZero: maskZero)
            let logs = try model.evaluate(x, y, verbose: .silent)
            let loss = try #require(logs["loss"])
            #expect(abs(loss - want) < 2e-6, "maskZero=\(maskZero): \(loss)")
            #expect(logs["accuracy"] == accuracy, "maskZero=\(maskZero): \(logs)")
        }
        // fit runs with the masked loss and metric too.
        let model = try Self.model(maskZero: true)
        let history = try model.fit(x, y, batchSize: 3, epochs: 2, verbose: .silent)
        #expect(history.history["accuracy"]?.count == 2)
    }
}

/// BatchNormalization with a mask: Keras's masked moments in training.
struct MaskedBatchNormalizationTests {
    /// Keras 3.15.1: BatchNormalization on x = sin(0.9·i + 1)·2 [2, 3, 2], gamma [1.5, 0.5],
    /// beta [0.1, −0.2], mask [[1,1,0],[1,0,0]], training: outputs, moving statistics and the
    /// gradient of Σ y·cos(i).
    @Test func maskedMomentsMatchKeras() throws {
        let bn = BatchNormalization()
        try bn.buildIfNeeded(inputShapes: [[3, 2]])
        try bn.weights[0].assign(Tensor([1.5, 0.5]))
        try bn.weights[1].assign(Tensor([0.1, -0.2]))
        let x = try Tensor(shape: [2, 3, 2], scalars: (0..<12).map { Float(sin(Double($0) * 0.9 + 1) * 2) })
        let w = try Tensor(shape: [2, 3, 2], scalars: (0..<12).map { Float(cos(Double($0))) })
        let mask = try Tensor(shape: [2, 3], scalars: [1, 1, 0, 1, 0, 0])
        let tape = GradientTape()
        tape.watch(x)
        let (y, l) = try tape.recording { () throws -> (Tensor, Tensor) in
            let y = try bn.call([x], mask: mask, training: true)[0]
            return (y, try (y * w).sum())
        }
        let g = try #require(try tape.gradient(l, [x])[0])
        func close(_ a: [Float], _ b: [Float], _ tol: Float) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) } }
        #expect(close(y.scalars, [2.1250224, 0.18838745, -0.3736831, -0.9057212, -6.92865, -1.0359528,
                                  -1.4513398, 0.11733371, 2.614714, -0.27649301, -4.710228, -1.250823], 3e-6), "\(y.scalars)")
        #expect(close(bn.weights[2].value.scalars, [0.008620055, 0.008446003], 1e-6))
        #expect(close(bn.weights[3].value.scalars, [0.9936878, 1.0081925], 1e-6))
        #expect(close(g.scalars, [-4.1138792, 0.052378006, 0.60834658, 0.012727492, -1.6123577, 0.10512488,
                                  7.546556, 0.16579327, -0.35890827, -0.3376638, -2.069757, 0.0016401585], 2e-5), "\(g.scalars)")
    }
}

/// Merge layers' masks as Keras 3: Add ORs them (none when an input has none); Concatenate ORs
/// them along the last axis (an unmasked input counts as all ones).
struct MergeMaskTests {
    @Test func addAndConcatenateMasks() throws {
        let a = Input(shape: [4]), b = Input(shape: [4])
        let ea = try Embedding(inputDim: 5, outputDim: 2, maskZero: true)(a)
        let eb = try Embedding(inputDim: 5, outputDim: 2, maskZero: true)(b)
        let plain = try Embedding(inputDim: 5, outputDim: 2)(b)
        let model = try Model(inputs: [a, b], outputs: [try add([ea, eb]), try concatenate([ea, eb]), try add([ea, plain]), try concatenate([ea, plain])])
        let xa = try Tensor(shape: [1, 4], scalars: [1, 0, 2, 0]), xb = try Tensor(shape: [1, 4], scalars: [0, 0, 3, 4])
        let masks = try model.callWithMasks([xa, xb], training: false).masks
        #expect(masks[0]?.scalars == [1, 0, 1, 1])
        #expect(masks[1]?.scalars == [1, 0, 1, 1])
        #expect(masks[2] == nil)
        #expect(masks[3]?.scalars == [1, 1, 1, 1])
    }
}

import Peregrine
import Testing

/// tf.GradientTape's semantics (KERAS_SPEC §6), each pinned by a case that fails if the tape
/// gets it wrong.
struct GradientTapeTests {
    /// The seed example of the design notes, written as a user would, with Keras's exact float32
    /// results — 0.39999998 included.
    @Test func seedExample() throws {
        let w = Variable(try Tensor.ones([3, 2]), name: "w")
        let b = Variable(try Tensor.zeros([1, 2]), name: "b")
        let x: Tensor = [[1, 2, 3]]
        let y: Tensor = [[4, 8]]
        let tape = GradientTape()
        let loss = try tape.recording {
            let yHat = try matmul(x, w.value) + b.value
            return try square(yHat - y).mean()
        }
        #expect(loss.scalar == 4.0)
        let grads = try tape.gradient(loss, [w, b])
        #expect(grads[0]?.scalars == [2, -2, 4, -4, 6, -6])
        #expect(grads[1]?.scalars == [2, -2])
        let sgd = try SGD(learningRate: 0.1)
        try sgd.apply(grads, to: [w, b])
        #expect(w.value.scalars == [0.8, 1.2, 0.6, 1.4, 0.39999998, 1.6])
        #expect(w.value.scalars[4].bitPattern == Float(0.3999999761581421).bitPattern)
        #expect(b.value.scalars == [-0.2, 0.2])
        #expect(sgd.iterations == 1)
    }

    @Test func minimizeRunsTheTapeAndTheUpdate() throws {
        let w = Variable(try Tensor.ones([3, 2]))
        let x: Tensor = [[1, 2, 3]]
        let sgd = try SGD(learningRate: 0.1)
        let loss = try sgd.minimize({ try square(matmul(x, w.value) - Tensor([[4, 8]])).mean() }, variables: [w])
        #expect(loss.scalar == 4.0)
        #expect(w.value.scalars == [0.8, 1.2, 0.6, 1.4, 0.39999998, 1.6])
    }

    @Test func nonPersistentTapeAnswersOnce() throws {
        let v = Variable(Tensor([1, 2]))
        let tape = GradientTape()
        let y = try tape.recording { try (v.value * v.value).sum() }
        _ = try tape.gradient(y, [v])
        #expect {
            _ = try tape.gradient(y, [v])
        } throws: { error in
            "\(error)".contains("non-persistent") && "\(error)".contains("persistent: true")
        }
    }

    @Test func persistentTapeAnswersRepeatedly() throws {
        let v = Variable(Tensor([1, 2]))
        let tape = GradientTape(persistent: true)
        let (y, z) = try tape.recording { (try (v.value * v.value).sum(), exp(v.value)) }
        #expect(try tape.gradient(y, [v])[0]?.scalars == [2, 4])
        #expect(try tape.gradient(y, [v])[0]?.scalars == [2, 4])
        #expect(try tape.gradient(z, [v])[0]?.scalars == exp(Tensor([1, 2])).scalars)
    }

    @Test func nonScalarTargetsAndTargetListsAreSummed() throws {
        let v = Variable(Tensor([1, 2, 3]))
        let tape = GradientTape(persistent: true)
        let z = try tape.recording { try v.value * v.value }
        #expect(try tape.gradient(z, [v])[0]?.scalars == [2, 4, 6])  // d(v·v)/dv = 2v
        #expect(try tape.gradient(targets: [z, z], variables: [v])[0]?.scalars == [4, 8, 12])
    }

    @Test func unconnectedAndUnwatchedSourcesGetNil() throws {
        let used = Variable(Tensor([1]))
        let unused = Variable(Tensor([1]))
        let frozen = Variable(Tensor([1]), trainable: false)
        let constant = Tensor([3])
        let tape = GradientTape()
        let y = try tape.recording { try (used.value * frozen.value * constant).sum() }
        let grads = try tape.gradient(y, [used, unused, frozen])
        #expect(grads[0]?.scalars == [3])
        #expect(grads[1] == nil)  // unconnected
        #expect(grads[2] == nil)  // non-trainable variables are not watched
    }

    @Test func explicitWatchOfConstantsAndFrozenVariables() throws {
        let x = Tensor([2, 3])
        let frozen = Variable(Tensor([5, 7]), trainable: false)
        let tape = GradientTape(persistent: true)
        tape.watch(x)
        tape.watch(frozen)
        let y = try tape.recording { try (x * frozen.value).sum() }
        #expect(try tape.gradient(y, [x])[0]?.scalars == [5, 7])
        #expect(try tape.gradient(y, [frozen])[0]?.scalars == [2, 3])
        let unwatched = GradientTape()
        let z = try unwatched.recording { try (x * x).sum() }
        #expect(try unwatched.gradient(z, [x])[0] == nil)  // constants need watch
    }

    @Test func watchAccessedVariablesCanBeOff() throws {
        let v = Variable(Tensor([1]))
        let tape = GradientTape(watchAccessedVariables: false)
        let y = try tape.recording { try (v.value * 2).sum() }
        #expect(try tape.gradient(y, [v])[0] == nil)
    }

    @Test func stopGradientBlocksTheFlow() throws {
        let v = Variable(Tensor([3]))
        let tape = GradientTape()
        let y = try tape.recording { try (stopGradient(square(v.value)) + v.value).sum() }
        #expect(try tape.gradient(y, [v])[0]?.scalars == [1])  // d(stop(v²) + v)/dv = 1
    }

    @Test func subGradientConventionsAtZero() throws {
        let x = Tensor([0, 0, 0, 0])
        let tape = GradientTape(persistent: true)
        tape.watch(x)
        let (r, a, m, c) = try tape.recording {
            (try relu(x).sum(), try abs(x).sum(), try maximum(x, Tensor(0)).sum(),
             try clip(x, min: 0, max: 1).sum())
        }
        #expect(try tape.gradient(r, [x])[0]?.scalars == [0, 0, 0, 0])  // relu'(0) = 0
        #expect(try tape.gradient(a, [x])[0]?.scalars == [0, 0, 0, 0])  // abs'(0) = 0
        #expect(try tape.gradient(m, [x])[0]?.scalars == [1, 1, 1, 1])  // ties go to x
        #expect(try tape.gradient(c, [x])[0]?.scalars == [1, 1, 1, 1])  // clip' = 1 at a bound
    }

    @Test func nestedTapesBothRecord() throws {
        let v = Variable(Tensor([2]))
        let outer = GradientTape()
        let inner = GradientTape()
        let y = try outer.recording { try inner.recording { try (v.value * v.value * v.value).sum() } }
        #expect(try inner.gradient(y, [v])[0]?.scalars == [12])
        #expect(try outer.gradient(y, [v])[0]?.scalars == [12])
    }

    @Test func gradientWithRespectToAnIntermediate() throws {
        let x = Tensor([1, 2])
        let tape = GradientTape()
        tape.watch(x)
        let (h, y) = try tape.recording {
            let h = x * 3
            return (h, try (h * h).sum())
        }
        #expect(try tape.gradient(y, [h])[0]?.scalars == [6, 12])
    }

    @Test func optimizerRejectsMismatchedGradients() throws {
        let v = Variable(Tensor([1, 2]), name: "kernel")
        let sgd = try SGD()
        #expect(throws: PeregrineError.self) { try sgd.apply([Tensor([1, 2, 3])], to: [v]) }
        #expect { try sgd.apply([nil], to: [v]) } throws: { "\($0)".contains("no gradients") }
        #expect { try SGD(clipnorm: 1, clipvalue: 1) } throws: { "\($0)".contains("at most one") }
    }
}

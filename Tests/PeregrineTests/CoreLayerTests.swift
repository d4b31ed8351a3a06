import Foundation
import Peregrine
import Testing

/// Flatten, Reshape, Dropout, Embedding, Concatenate and Add: shapes, Keras names, errors that
/// name the layer, and gradients (numerical checks with GradientCheckTests' tolerances).
struct CoreLayerTests {
    /// d(Σ layer(x)·u)/d weight on the tape against central differences made by assigning the
    /// perturbed weight (the tolerance argument is GradientCheckTests'; the layers here are
    /// linear in their weights, so the differences are exact up to rounding).
    static func checkWeightGradient(
        _ name: String, _ weight: Variable, sourceLocation: SourceLocation = #_sourceLocation,
        _ f: () throws -> Tensor
    ) throws {
        let probe = try f()
        let u = try GradientCheckTests.random(probe.shape, seed: 98)
        let tape = GradientTape()
        let loss = try tape.recording { try (f() * u).sum() }
        guard let analytic = try tape.gradient(loss, weight) else {
            Issue.record("\(name): no gradient", sourceLocation: sourceLocation)
            return
        }
        let original = weight.value
        defer { try? weight.assign(original) }
        let h: Float = 1e-2
        for j in 0..<original.scalarCount {
            var plus = original, minus = original
            plus.withUnsafeMutableBufferPointer { $0[j] += h }
            minus.withUnsafeMutableBufferPointer { $0[j] -= h }
            try weight.assign(plus)
            let lp = try (f() * u).sum().scalar!
            try weight.assign(minus)
            let lm = try (f() * u).sum().scalar!
            let numeric = (lp - lm) / (2 * h)
            #expect(abs(analytic.scalars[j] - numeric) <= 2e-3 + 2e-3 * abs(numeric),
                    "\(name)[\(j)]: tape \(analytic.scalars[j]) vs numeric \(numeric)", sourceLocation: sourceLocation)
        }
    }

    @Test func flatten() throws {
        let layer = Flatten()
        #expect(layer.name.hasPrefix("flatten"))
        let x = try GradientCheckTests.random([2, 3, 4, 2], seed: 31)
        let y = try layer(x)
        #expect(y.shape == [2, 24] && y.scalars == x.scalars)
        #expect(try layer.outputShapes(forInputShapes: [[3, 4, 2]]) == [[24]])
        try GradientCheckTests.check("Flatten", [x]) { try Flatten()($0[0]) }
    }

    @Test func reshape() throws {
        let layer = Reshape(targetShape: [-1, 4])
        #expect(layer.name.hasPrefix("reshape"))
        let x = try GradientCheckTests.random([2, 3, 4, 2], seed: 32)
        #expect(try layer(x).shape == [2, 6, 4])
        #expect(try Reshape(targetShape: [24])(x).shape == [2, 24])
        try GradientCheckTests.check("Reshape", [x]) { try Reshape(targetShape: [4, 6])($0[0]) }
        let twoUnknown = Reshape(targetShape: [-1, -1])
        #expect { _ = try twoUnknown(x) } throws: { "\($0)".hasPrefix(twoUnknown.name) }
        let wrongCount = Reshape(targetShape: [5, -1])
        #expect { _ = try wrongCount(x) } throws: { "\($0)".hasPrefix(wrongCount.name) && "\($0)".contains("[3, 4, 2]") }
        #expect(throws: PeregrineError.self) { _ = try Reshape(targetShape: [7])(x) }
    }

    @Test func dropoutInferenceAndEdgeRates() throws {
        let x = try GradientCheckTests.random([4, 5], seed: 33)
        let layer = Dropout(rate: 0.5)
        #expect(layer.name.hasPrefix("dropout"))
        #expect(try layer(x).scalars == x.scalars)                        // training: false
        #expect(try Dropout(rate: 0)(x, training: true).scalars == x.scalars)
        #expect(try Dropout(rate: 1)(x, training: true).scalars.allSatisfy { $0 == 0 })
        #expect(throws: PeregrineError.self) { _ = try Dropout(rate: 1.5)(x, training: true) }
    }

    @Test func dropoutStatisticsAndGradient() throws {
        let rate: Float = 0.3
        let x = try Tensor.ones([100, 1000])
        let layer = Dropout(rate: rate, seed: 5)
        let tape = GradientTape()
        tape.watch(x)
        let (y, total) = try tape.recording {
            let y = try layer(x, training: true)
            return (y, try y.sum())
        }
        let values = y.scalars
        let scale = 1 / (1 - rate)
        #expect(values.allSatisfy { $0 == 0 || $0 == scale })  // inverted scaling, exactly
        // Binomial zero fraction: standard deviation √(0.3·0.7/10^5) = 0.0015.
        let zeros = Double(values.filter { $0 == 0 }.count) / Double(values.count)
        #expect(abs(zeros - Double(rate)) < 0.008, "\(zeros)")
        // The backward pass multiplies by the same mask: with x = 1, dx = y for upstream 1.
        let dx = try #require(try tape.gradient(total, [x])[0])
        #expect(dx.scalars == values)
        // Same seed, same masks; the layer's stream moves on between calls.
        let twin = Dropout(rate: rate, seed: 5)
        #expect(try twin(x, training: true).scalars == values)
        #expect(try twin(x, training: true).scalars != values)
    }

    @Test func embedding() throws {
        let layer = Embedding(inputDim: 5, outputDim: 3)
        #expect(layer.name.hasPrefix("embedding"))
        let indices = try Tensor(shape: [2, 3], scalars: [1, 4, 1, 0, 2, 4])
        let y = try layer(indices)
        #expect(y.shape == [2, 3, 3])
        let table = layer.embeddings!.value
        #expect(layer.weights.map(\.name) == ["embeddings"] && table.shape == [5, 3])
        #expect(table.scalars.allSatisfy { abs($0) <= 0.05 })
        let rows = table.scalars
        let picked: [Int] = [1, 4, 1, 0, 2, 4]
        var want: [Float] = []
        for row in picked { want += rows[(row * 3)..<(row * 3 + 3)] }
        #expect(y.scalars == want)
        // Repeated indices accumulate in the gradient; indices get none.
        try Self.checkWeightGradient("Embedding", layer.embeddings!) { try layer(indices) }
        let tape = GradientTape()
        tape.watch(indices)
        let out = try tape.recording { try layer(indices).sum() }
        #expect(try tape.gradient(out, [indices])[0] == nil)
    }

    @Test func embeddingRejectsOutOfRangeIndices() throws {
        let layer = Embedding(inputDim: 4, outputDim: 2)
        for bad: Float in [4, -1, 100] {
            #expect {
                _ = try layer(try Tensor(shape: [1, 3], scalars: [0, bad, 1]))
            } throws: { error in
                "\(error)".hasPrefix(layer.name) && "\(error)".contains("[0, 4)") && "\(error)".contains("position 1")
            }
        }
    }

    @Test func embeddingMaskZero() throws {
        let masked = Embedding(inputDim: 5, outputDim: 2, maskZero: true)
        let x = try Tensor(shape: [2, 3], scalars: [3, 0, 1, 0, 0, 4])
        _ = try masked(x)
        #expect(masked.computeMask(x)?.scalars == [1, 0, 1, 0, 0, 1])
        #expect(masked.computeMask(x)?.shape == [2, 3])
        #expect(Embedding(inputDim: 5, outputDim: 2).computeMask(x) == nil)
    }

    @Test func concatenate() throws {
        let layer = Concatenate()
        #expect(layer.name.hasPrefix("concatenate"))
        let a = try GradientCheckTests.random([2, 2], seed: 34)
        let b = try GradientCheckTests.random([2, 3], seed: 35)
        let y = try layer([a, b])[0]
        #expect(y.shape == [2, 5])
        let firstRow: [Float] = Array(a.scalars[0..<2]) + Array(b.scalars[0..<3])
        #expect(Array(y.scalars[0..<5]) == firstRow)
        #expect(try layer.outputShapes(forInputShapes: [[2], [3]]) == [[5]])
        try GradientCheckTests.check("Concatenate", [a, b]) { try Concatenate()($0)[0] }
        let c = try GradientCheckTests.random([2, 3, 4], seed: 36)
        let d = try GradientCheckTests.random([2, 1, 4], seed: 40)
        try GradientCheckTests.check("Concatenate axis 1", [c, d]) { try Concatenate(axis: 1)($0)[0] }
        let bad = Concatenate(axis: 1)
        #expect { _ = try bad([c, a]) } throws: { "\($0)".hasPrefix(bad.name) }
    }

    @Test func add() throws {
        let layer = Add()
        #expect(layer.name.hasPrefix("add"))
        let a = try GradientCheckTests.random([2, 3], seed: 37)
        let b = try GradientCheckTests.random([2, 1], seed: 38)
        let c = try GradientCheckTests.random([2, 3], seed: 39)
        let y = try layer([a, b, c])[0]
        let leftToRight: Tensor = try (a + b) + c
        #expect(y.scalars == leftToRight.scalars)  // left to right, broadcasting size 1
        try GradientCheckTests.check("Add", [a, b, c]) { try Add()($0)[0] }
        let bad = Add()
        #expect { _ = try bad([a, try Tensor.zeros([2, 4])]) } throws: { "\($0)".hasPrefix(bad.name) }
    }
}

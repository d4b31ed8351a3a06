import Peregrine
import Testing

/// Creation, literals, copy-on-write, description and the errors of the Tensor type.
struct TensorTests {
    @Test func nestedLiteralsGiveShapeAndScalars() {
        let x: Tensor = [[1, 2, 3], [4, 5, 6]]
        #expect(x.shape == [2, 3])
        #expect(x.rank == 2 && x.scalarCount == 6)
        #expect(x.scalars == [1, 2, 3, 4, 5, 6])
        let row: Tensor = [[1, 2.5, 3]]
        #expect(row.shape == [1, 3])
        let cube: Tensor = [[[1], [2]], [[3], [4]]]
        #expect(cube.shape == [2, 2, 1])
        let empty: Tensor = []
        #expect(empty.shape == [0] && empty.scalars.isEmpty)
    }

    @Test func shapeAndScalarsInitializerChecksTheCount() throws {
        let x = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(x.shape == [2, 2])
        #expect(throws: PeregrineError.invalidArgument(
            operation: "Tensor(shape:scalars:)", expected: "6 scalars for shape [2, 3]", actual: "5")) {
            try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
        }
        #expect(throws: PeregrineError.self) { try Tensor(shape: [-1, 2], scalars: []) }
        #expect(throws: PeregrineError.self) { try Tensor.zeros([1, 1, 1, 1, 1, 1, 1, 1, 1]) } // rank 9
        let scalar = Tensor(3.5)
        #expect(scalar.shape == [] && scalar.scalar == 3.5)
        #expect(try Tensor(shape: [], scalars: [2]).scalar == 2)
    }

    @Test func fillsAndRandomAreSeededAndInRange() throws {
        #expect(try Tensor.zeros([2, 3]).scalars == [Float](repeating: 0, count: 6))
        #expect(try Tensor.ones([4]).scalars == [1, 1, 1, 1])
        #expect(try Tensor.full([2], value: 7).scalars == [7, 7])
        let u1 = try Tensor.randomUniform([3, 4], lowerBound: -2, upperBound: 5, seed: 42)
        let u2 = try Tensor.randomUniform([3, 4], lowerBound: -2, upperBound: 5, seed: 42)
        let u3 = try Tensor.randomUniform([3, 4], lowerBound: -2, upperBound: 5, seed: 43)
        #expect(u1.shape == [3, 4])
        #expect(u1.scalars == u2.scalars && u1.scalars != u3.scalars)
        #expect(u1.scalars.allSatisfy { $0 >= -2 && $0 < 5 })
        let n = try Tensor.randomNormal([10_000], mean: 3, standardDeviation: 0.5, seed: 1)
        let mean = try n.mean().scalar!
        #expect(abs(mean - 3) < 0.02)
        #expect(throws: PeregrineError.self) { try Tensor.randomUniform([2], lowerBound: 1, upperBound: 0) }
        #expect(throws: PeregrineError.self) { try Tensor.randomNormal([2], standardDeviation: -1) }
    }

    @Test func copyOnWriteKeepsValuesIndependent() throws {
        let a: Tensor = [1, 2, 3]
        var b = a
        b.withUnsafeMutableBufferPointer { $0[0] = 100 }
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [100, 2, 3])
        // a reshape shares storage; writing through it must not change the original either
        var r = try a.reshaped(to: [3, 1])
        r.withUnsafeMutableBufferPointer { $0[2] = -1 }
        #expect(a.scalars == [1, 2, 3] && r.scalars == [1, 2, -1])
        let aligned = a.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress!) % 64 }
        #expect(aligned == 0)
    }

    @Test func descriptionIsNumPyLike() throws {
        let x: Tensor = [[1, 2, 3], [4, 5, 6]]
        #expect(x.description == "Tensor([2, 3]) [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]")
        #expect(Tensor(2.5).description == "Tensor([]) 2.5")
        #expect(Tensor([]).description == "Tensor([0]) []")
        let big = try Tensor.zeros([2, 1000])
        #expect(big.description == "Tensor([2, 1000]) [[0.0, 0.0, 0.0, ..., 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, ..., 0.0, 0.0, 0.0]]")
        let labels: IntTensor = [[1, 2], [3, 4]]
        #expect(labels.description == "IntTensor([2, 2]) [[1, 2], [3, 4]]")
    }

    @Test func errorMessagesNameTheOperationAndShapes() {
        #expect(PeregrineError.incompatibleShapes(operation: "add", lhs: [2, 3], rhs: [4]).description
                == "add: shapes [2, 3] and [4] are not broadcastable")
        #expect(PeregrineError.axisOutOfRange(operation: "sum", axis: 2, rank: 2).description
                == "sum: expected an axis in -2..<2 for a rank-2 tensor, got 2")
        #expect(PeregrineError.shapeMismatch(operation: "Dense", expected: [-1, 4], actual: [2, 3]).description
                == "Dense: expected shape [-1, 4], got [2, 3]")
    }

    @Test func tensorIsSendableAcrossTasks() async throws {
        let x = try Tensor.ones([1000])
        let sums = try await withThrowingTaskGroup(of: Float.self) { group in
            for k in 1...4 { group.addTask { try (x * Float(k)).sum().scalar! } }
            return try await group.reduce(0, +)
        }
        #expect(sums == 10_000)
    }
}

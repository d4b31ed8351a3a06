import Peregrine
import Testing

/// Reshape, transpose/permute, broadcast, concatenation, slicing and IntTensor.
struct TensorShapeTests {
    let x = try! Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])

    @Test func reshapeInfersOneDimension() throws {
        #expect(try x.reshaped(to: [3, -1]).shape == [3, 2])
        #expect(try x.reshaped(to: [-1]).scalars == [1, 2, 3, 4, 5, 6])
        #expect(try x.reshaped(to: [6, 1, 1]).shape == [6, 1, 1])
        #expect(throws: PeregrineError.self) { try x.reshaped(to: [4, -1]) }
        #expect(throws: PeregrineError.self) { try x.reshaped(to: [-1, -1]) }
        #expect(throws: PeregrineError.self) { try x.reshaped(to: [7]) }
        #expect(try x.expandingShape(at: 1).shape == [2, 1, 3])
        #expect(try x.expandingShape(at: -1).shape == [2, 3, 1])
        #expect(try Tensor.zeros([1, 3, 1]).squeezingShape().shape == [3])
        #expect(try Tensor.zeros([1, 3, 1]).squeezingShape(at: 0).shape == [3, 1])
        #expect(throws: PeregrineError.self) { try x.squeezingShape(at: 0) }
    }

    @Test func transposeAndPermute() throws {
        let t = try x.transposed()
        #expect(t.shape == [3, 2] && t.scalars == [1, 4, 2, 5, 3, 6])
        let cube = try Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        let p = try cube.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(p.scalars.prefix(6) == [0, 4, 8, 12, 16, 20])
        #expect(try p.permuted([1, 2, 0]).scalars == cube.scalars)
        #expect(throws: PeregrineError.self) { try cube.permuted([0, 0, 1]) }
        #expect(throws: PeregrineError.self) { try cube.permuted([0, 1]) }
    }

    @Test func broadcastMaterialises() throws {
        let b = try Tensor([1, 2]).broadcasted(to: [3, 2])
        #expect(b.scalars == [1, 2, 1, 2, 1, 2])
        #expect(throws: PeregrineError.incompatibleShapes(operation: "broadcast", lhs: [2], rhs: [3, 3])) {
            try Tensor([1, 2]).broadcasted(to: [3, 3])
        }
        #expect(throws: PeregrineError.self) { try Tensor.zeros([3, 2]).broadcasted(to: [2]) }
    }

    @Test func concatenateAlongAnAxis() throws {
        let a: Tensor = [[1, 2]]
        let b: Tensor = [[3, 4], [5, 6]]
        #expect(try Tensor.concatenate([a, b], axis: 0).scalars == [1, 2, 3, 4, 5, 6])
        let c = try x.concatenated(with: x * 10, axis: 1)
        #expect(c.shape == [2, 6] && c.scalars == [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60])
        #expect(try Tensor.concatenate([x, Tensor.zeros([2, 0])], axis: -1).shape == [2, 3])
        #expect(throws: PeregrineError.self) { try Tensor.concatenate([a, x], axis: 0) }
        #expect(throws: PeregrineError.self) { try Tensor.concatenate([], axis: 0) }
    }

    @Test func slicingWithSwiftRanges() throws {
        let m = try Tensor(shape: [4, 6], scalars: (0..<24).map(Float.init))
        #expect(try m[1..<3].shape == [2, 6])
        #expect(try m[1..<3].scalars.first == 6)
        #expect(try m[2, 5].scalar == 17)
        #expect(try m[2, 5].shape == [])
        #expect(try m[1].scalars == [6, 7, 8, 9, 10, 11])
        #expect(try m[0..., stride(from: 0, to: 6, by: 2)].shape == [4, 3])
        #expect(try m[0, stride(from: 1, to: 6, by: 2)].scalars == [1, 3, 5])
        #expect(try m[0, stride(from: 5, through: 0, by: -2)].scalars == [5, 3, 1])
        #expect(try m[3, stride(from: 5, through: 0, by: -1)].scalars == [23, 22, 21, 20, 19, 18])
        #expect(try m[1...2, ..<2].scalars == [6, 7, 12, 13])
        #expect(try m[...1, 4...].scalars == [4, 5, 10, 11])
        #expect(try m[TensorRange.all, 1].scalars == [1, 7, 13, 19])
        #expect(try m.slice([.strided(from: 0, to: nil, by: 3)]).scalars.count == 12)
        #expect(try m[2..<2].shape == [0, 6])
        #expect(throws: PeregrineError.self) { try m[4] }
        #expect(throws: PeregrineError.self) { try m[0..<5] }
        #expect(throws: PeregrineError.self) { try m[0, 0, 0] }
        #expect(throws: PeregrineError.self) { try m.slice([.strided(from: 0, to: 2, by: 0)]) }
    }

    @Test func intTensorBasics() throws {
        let labels: IntTensor = [[0, 2], [1, 1]]
        #expect(labels.shape == [2, 2] && labels.scalars == [0, 2, 1, 1])
        #expect(Tensor(labels).scalars == [0, 2, 1, 1])
        #expect(try IntTensor.full([3], value: -1).scalars == [-1, -1, -1])
        #expect(try IntTensor.zeros([2]).scalars == [0, 0])
        #expect(try labels.reshaped(to: [-1]).shape == [4])
        #expect(try labels[1].scalars == [1, 1])
        #expect(try labels[0..., 1].scalars == [2, 1])
        #expect(throws: PeregrineError.self) { try IntTensor(shape: [3], scalars: [1]) }
        var copy = labels
        copy.withUnsafeMutableBufferPointer { $0[0] = 9 }
        #expect(labels.scalars[0] == 0 && copy.scalars[0] == 9)
        #expect(copy != labels)
    }
}

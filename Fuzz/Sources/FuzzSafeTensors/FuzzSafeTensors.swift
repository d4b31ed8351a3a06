// libFuzzer entry point for the safetensors reader: any bytes must give contents or a
// PeregrineError. Accepted contents must survive a write and a read unchanged, bit for bit.
import FuzzMain  // the entry point that starts libFuzzer
import Peregrine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let contents: SafeTensors.Contents
    do {
        contents = try SafeTensors.decode(bytes, name: "fuzz")
    } catch is PeregrineError {
        return 0
    } catch {
        fatalError("SafeTensors.decode threw a non-Peregrine error: \(error)")
    }
    guard Set(contents.names) == Set(contents.tensors.keys), contents.names.count == contents.tensors.count else {
        fatalError("names \(contents.names) disagree with the tensors")
    }
    do {
        let tensors = contents.names.map { (name: $0, tensor: contents.tensors[$0]!) }
        let again = try SafeTensors.decode(try SafeTensors.encode(tensors, metadata: contents.metadata))
        guard again.names == contents.names, again.metadata == contents.metadata else {
            fatalError("round trip changed the names or metadata")
        }
        for name in contents.names {
            let a = contents.tensors[name]!, b = again.tensors[name]!
            guard a.shape == b.shape, a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern) else {
                fatalError("round trip changed tensor \(name)")
            }
        }
    } catch {
        fatalError("re-encoding accepted contents failed: \(error)")
    }
    return 0
}

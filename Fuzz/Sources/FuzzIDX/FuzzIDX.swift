// libFuzzer entry point for the IDX reader: any bytes must give a tensor or a PeregrineError —
// never a crash, a hang, a sanitizer report or an allocation beyond what the input justifies.
import FuzzMain  // the entry point that starts libFuzzer
import Peregrine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 1, let data else { return 0 }
    // The first byte picks the options (so one corpus covers them all); the rest is the file.
    let options = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let rank: Int? = options & 1 == 0 ? nil : (options & 2 == 0 ? 1 : 3)
    let limit: Int? = options & 4 == 0 ? nil : Int(options >> 3)
    do {
        let x = try IDXFile.decode(bytes, name: "fuzz", rank: rank, limit: limit, scale: 1 / 255)
        // A decoded tensor is consistent: its rank is the header's, every element a scaled byte.
        if let rank, x.rank != rank { fatalError("rank \(x.rank) for a rank-\(rank) request") }
        if let limit, x.shape[0] > limit { fatalError("shape \(x.shape) beyond limit \(limit)") }
        if !x.scalars.allSatisfy({ $0 >= 0 && $0 <= 1 }) { fatalError("a pixel outside [0, 1]") }
    } catch is PeregrineError {
        // Rejected with a message: the expected outcome for most inputs.
    } catch {
        fatalError("IDXFile.decode threw a non-Peregrine error: \(error)")
    }
    return 0
}

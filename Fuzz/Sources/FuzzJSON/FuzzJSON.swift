// libFuzzer entry point for JSONValue, the parser behind safetensors headers, model
// architectures and layer configs: any bytes must parse or throw a PeregrineError, and a parsed
// value must serialize to text that parses back to the same value.
import FuzzMain  // the entry point that starts libFuzzer
import Peregrine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let value: JSONValue
    do {
        value = try JSONValue(parsing: bytes)
    } catch is PeregrineError {
        return 0
    } catch {
        fatalError("JSONValue(parsing:) threw a non-Peregrine error: \(error)")
    }
    let text = value.serialized
    do {
        guard try JSONValue(parsing: text) == value else { fatalError("round trip changed the value: \(text)") }
    } catch {
        fatalError("serialized JSON does not parse: \(error) — \(text)")
    }
    return 0
}

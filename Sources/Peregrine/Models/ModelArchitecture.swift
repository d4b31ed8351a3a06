/// A model's architecture as Keras-like JSON (Keras's `model.get_config()` wrapped in
/// `{"class_name": …, "config": …}`), and models rebuilt from it. ``Model/save(to:)`` stores it
/// beside the weights.
///
/// A ``Sequential`` is `{"class_name": "Sequential", "config": {"name", "trainable", "layers":
/// [{"class_name", "config"}, …], "build_input_shape"}}`. A functional model lists every layer
/// (its ``InputLayer``s too) with its `inbound_nodes`: one entry per call, `{"args": [tensor or
/// [tensors]], "kwargs": {}}`, each tensor a `__keras_tensor__` whose `keras_history` is
/// `[layer name, node index, tensor index]`; `input_layers` and `output_layers` list such triples.
///
/// ```swift
/// let json = try model.kerasArchitecture()
/// let copy = try Model.fromKerasArchitecture(json)   // same graph, fresh weights
/// ```
extension Model {
    /// The architecture as Keras-like JSON: class name, layers and their configs, and for a
    /// functional model the graph. Throws for layers without a Keras config (see
    /// ``Layer/kerasConfig()``).
    ///
    /// ```swift
    /// print(try model.kerasArchitecture().serialized)
    /// ```
    public func kerasArchitecture() throws -> JSONValue {
        if let sequential = self as? Sequential {
            var layers: [JSONValue] = []
            if let input = sequential.inputLayer {
                layers.append(["class_name": "InputLayer", "config": try input.kerasConfig()])
            }
            for layer in sequential.layers {
                layers.append(["class_name": JSONValue(type(of: layer).kerasClassName), "config": try layer.kerasConfig()])
            }
            var members: [(key: String, value: JSONValue)] = [
                ("name", JSONValue(name)), ("trainable", JSONValue(trainable)), ("layers", .array(layers)),
            ]
            if let shape = sequential.inputShape {
                let batchShape: [JSONValue] = [.null] + shape.map { JSONValue($0) }
                members.append(("build_input_shape", .array(batchShape)))
            }
            return .object([("class_name", "Sequential"), ("config", .object(members))])
        }
        // Each layer's calls inside this model, numbered 0, 1, … in call order.
        var nodeIndex: [ObjectIdentifier: Int] = [:]
        var nodesOfLayer: [ObjectIdentifier: [Node]] = [:]
        for node in inputs.map(\.node) + executionOrder {
            nodesOfLayer[ObjectIdentifier(node.layer), default: []].append(node)
        }
        for (key, nodes) in nodesOfLayer {
            nodesOfLayer[key] = nodes.sorted { $0.index < $1.index }
            for (index, node) in nodesOfLayer[key]!.enumerated() { nodeIndex[ObjectIdentifier(node)] = index }
        }
        func history(_ tensor: SymbolicTensor) -> JSONValue {
            [JSONValue(tensor.layer.name), JSONValue(nodeIndex[ObjectIdentifier(tensor.node)] ?? 0), JSONValue(tensor.index)]
        }
        func kerasTensor(_ tensor: SymbolicTensor) -> JSONValue {
            [
                "class_name": "__keras_tensor__",
                "config": [
                    "shape": .array([.null] + tensor.shape.map { JSONValue($0) }), "dtype": "float32",
                    "keras_history": history(tensor),
                ],
            ]
        }
        var layers: [JSONValue] = []
        for layer in graphLayers {
            let inbound: [JSONValue] = (nodesOfLayer[ObjectIdentifier(layer)] ?? []).compactMap { node in
                if node.inputs.isEmpty { return nil }   // an InputLayer's own node
                let argument = node.inputs.count == 1 ? kerasTensor(node.inputs[0]) : .array(node.inputs.map(kerasTensor))
                return ["args": [argument], "kwargs": [:]]
            }
            layers.append([
                "class_name": JSONValue(type(of: layer).kerasClassName), "config": try layer.kerasConfig(),
                "name": JSONValue(layer.name), "inbound_nodes": .array(inbound),
            ])
        }
        return [
            "class_name": "Functional",
            "config": [
                "name": JSONValue(name), "trainable": JSONValue(trainable), "layers": .array(layers),
                "input_layers": .array(inputs.map(history)), "output_layers": .array(outputs.map(history)),
            ],
        ]
    }

    /// A new model (fresh weights, not compiled) from an architecture that
    /// ``kerasArchitecture()`` wrote: a ``Sequential``, or a functional model with any number
    /// of inputs and outputs and shared layers. Layer and model names are restored.
    ///
    /// Throws ``PeregrineError`` for an unknown class name, a layer config Peregrine cannot
    /// read (naming the class and key), or a graph whose references do not resolve.
    ///
    /// An architecture from outside is untrusted: pass `maxWeightElements` to bound the scalars
    /// its layers may allocate for weights in all, so that a config asking for terabytes throws
    /// instead of ending the process (``load(from:)`` bounds it by the file's own weights).
    ///
    /// ```swift
    /// let model = try Model.fromKerasArchitecture(try JSONValue(parsing: text))
    /// let untrusted = try Model.fromKerasArchitecture(json, maxWeightElements: 10_000_000)
    /// ```
    public static func fromKerasArchitecture(_ architecture: JSONValue, maxWeightElements: Int? = nil) throws -> Model {
        guard let maxWeightElements else { return try rebuild(architecture) }
        return try WeightBudget.withLimit(maxWeightElements, source: "the limit given to fromKerasArchitecture") {
            try rebuild(architecture)
        }
    }

    /// The body of ``fromKerasArchitecture(_:maxWeightElements:)``, under whatever weight budget
    /// the caller set.
    static func rebuild(_ architecture: JSONValue) throws -> Model {
        let operation = "Model.fromKerasArchitecture"
        func fail(_ expected: String, _ actual: String) -> PeregrineError {
            .invalidArgument(operation: operation, expected: expected, actual: actual)
        }
        guard let className = architecture["class_name"]?.string else {
            throw fail("an object with a string 'class_name'", architecture["class_name"]?.kind ?? architecture.kind)
        }
        guard let config = architecture["config"], config.members != nil else {
            throw fail("an object 'config'", architecture["config"]?.kind ?? "none")
        }
        guard let layerEntries = config["layers"]?.array else {
            throw fail("a list 'layers' in the config", config["layers"]?.kind ?? "none")
        }
        let name = config["name"]?.string
        let trainable = config["trainable"]?.bool ?? true
        func makeLayer(_ entry: JSONValue, _ index: Int) throws -> Layer {
            guard let layerClass = entry["class_name"]?.string else {
                throw fail("a string 'class_name' for layer \(index)", entry["class_name"]?.kind ?? "none")
            }
            return try Layer.fromKerasConfig(className: layerClass, config: entry["config"] ?? .object([]))
        }

        switch className {
        case "Sequential":
            let layers = try layerEntries.enumerated().map { try makeLayer($1, $0) }
            let model = try Sequential(layers, name: name)
            if model.inputShape == nil, let shape = config["build_input_shape"]?.array, !shape.isEmpty {
                var sample = try shape.dropFirst().map { dim -> Int in
                    guard let d = dim.int, d > 0 else { throw fail("positive dimensions in build_input_shape", dim.kind) }
                    return d
                }
                for layer in model.layers {
                    try layer.buildIfNeeded(inputShapes: [sample])
                    sample = try layer.outputShapes(forInputShapes: [sample])[0]
                }
                try model.buildIfNeeded(inputShapes: [Array(shape.dropFirst().compactMap(\.int))])
            }
            model.trainable = trainable
            return model

        case "Functional", "Model":
            var layers: [(layer: Layer, nodes: [JSONValue])] = []
            var byName: [String: Int] = [:]
            for (index, entry) in layerEntries.enumerated() {
                let layer = try makeLayer(entry, index)
                let layerName = entry["name"]?.string ?? layer.name
                guard byName[layerName] == nil else { throw fail("distinct layer names", "'\(layerName)' twice") }
                byName[layerName] = layers.count
                layers.append((layer, entry["inbound_nodes"]?.array ?? []))
            }
            // outputs[layer][node] = that call's symbolic outputs; InputLayers own node 0.
            var outputs: [[[SymbolicTensor]]] = layers.map { entry in
                (entry.layer as? InputLayer).map { [[$0.output]] } ?? []
            }
            func resolve(_ reference: JSONValue) throws -> SymbolicTensor? {
                let triple = reference["config"]?["keras_history"] ?? reference
                guard let items = triple.array, items.count == 3, let layerName = items[0].string,
                      let node = items[1].int, let tensor = items[2].int
                else { throw fail("a [layer, node, tensor] reference", triple.kind) }
                guard let layer = byName[layerName] else {
                    throw fail("a reference to a layer of the model", "'\(layerName)'")
                }
                guard node < outputs[layer].count else { return nil }   // not made yet
                guard outputs[layer][node].indices.contains(tensor) else {
                    throw fail("an output index of \(layerName)", "\(tensor)")
                }
                return outputs[layer][node][tensor]
            }
            // Keras's deferred construction: call each layer on its next node as soon as that
            // node's inputs exist, until every node is made.
            var progress = true
            while progress {
                progress = false
                for (index, entry) in layers.enumerated() where !(entry.layer is InputLayer) {
                    while outputs[index].count < entry.nodes.count {
                        let node = entry.nodes[outputs[index].count]
                        guard let argument = node["args"]?[0] else {
                            throw fail("inbound nodes with 'args' for \(entry.layer.name)", node.kind)
                        }
                        let references = argument["class_name"] != nil || argument[0]?.string != nil
                            ? [argument] : (argument.array ?? [argument])
                        var symbols: [SymbolicTensor] = []
                        for reference in references {
                            guard let symbol = try resolve(reference) else { break }
                            symbols.append(symbol)
                        }
                        guard symbols.count == references.count else { break }
                        outputs[index].append(try entry.layer(symbols))
                        progress = true
                    }
                }
            }
            if let stuck = layers.indices.first(where: { !(layers[$0].layer is InputLayer) && outputs[$0].count < layers[$0].nodes.count }) {
                throw fail("inbound nodes that resolve", "\(layers[stuck].layer.name) waits on a tensor never made (a cycle or a missing layer)")
            }
            func endpoints(_ key: String) throws -> [SymbolicTensor] {
                guard var list = config[key]?.array else { throw fail("a list '\(key)'", config[key]?.kind ?? "none") }
                if list.first?.string != nil { list = [.array(list)] }   // a single [name, node, tensor]
                return try list.map { reference in
                    guard let symbol = try resolve(reference) else {
                        throw fail("\(key) that the graph makes", reference.serialized)
                    }
                    return symbol
                }
            }
            let model = try Model(inputs: try endpoints("input_layers"), outputs: try endpoints("output_layers"), name: name)
            model.trainable = trainable
            return model

        default:
            throw fail("class_name \"Sequential\" or \"Functional\"", "\"\(className)\"")
        }
    }
}

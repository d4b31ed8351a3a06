#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An SVG bar chart of training and inference throughput: per workload and phase, one bar per
/// system (Peregrine first, then the anchors), each as a multiple of the faster anchor's samples/s
/// on a linear axis, with dashed lines at 1× (the faster anchor) and 1.5× (issue #6's goal). Each
/// bar is labelled with its samples/s.
///
/// The anchors' numbers come from Python runs, in a small JSON file (``AnchorFile``):
///
/// ```json
/// { "description": "keras_fmnist.py / torch_fmnist.py, 2 threads, 2024-11-29",
///   "anchors": [
///     { "name": "Keras 3 (TF 2.21)", "results": { "mlp": { "train": 17158, "infer": 28173 } } },
///     { "name": "PyTorch 2.15", "results": { "mlp": { "train": 33980, "infer": 161210 } } } ] }
/// ```
///
/// ```swift
/// let anchors = try ThroughputChart.loadAnchors(from: "docs/anchors.json")
/// let chart = ThroughputChart(
///     subject: .init(name: "Peregrine", results: ["mlp": .init(train: 40000, infer: 150000)]),
///     anchors: anchors.anchors)
/// try chart.write(to: "docs/throughput.svg")
/// ```
public struct ThroughputChart: Sendable {
    /// Samples/s of one workload, training and inference.
    public struct Rates: Codable, Sendable, Equatable {
        /// Training samples/s (full steps).
        public var train: Double
        /// Inference samples/s.
        public var infer: Double

        /// Both rates.
        public init(train: Double, infer: Double) {
            self.train = train
            self.infer = infer
        }
    }

    /// One system's results: its name and, per workload name, its rates.
    public struct Series: Codable, Sendable, Equatable {
        /// Shown in the legend, e.g. "PyTorch 2.15".
        public var name: String
        /// Workload name (`mlp`, `cnn`, …) → rates; missing workloads draw no bar.
        public var results: [String: Rates]

        /// A named series.
        public init(name: String, results: [String: Rates]) {
            self.name = name
            self.results = results
        }
    }

    /// The anchors' JSON file: a free-text description (where the numbers come from) and the
    /// series in legend order.
    public struct AnchorFile: Codable, Sendable, Equatable {
        /// Where, when and how the anchors ran.
        public var description: String?
        /// One series per anchor.
        public var anchors: [Series]

        /// A file's content.
        public init(description: String?, anchors: [Series]) {
            self.description = description
            self.anchors = anchors
        }
    }

    /// Training or inference.
    public enum Phase: String, Sendable, CaseIterable {
        /// Training samples/s.
        case train
        /// Inference samples/s.
        case infer
    }

    /// One drawn bar: what it shows and where it is (SVG user units, y growing downwards).
    public struct Bar: Sendable, Equatable {
        /// The series' name.
        public let series: String
        /// The workload's name.
        public let workload: String
        /// Training or inference.
        public let phase: Phase
        /// The input, samples/s.
        public let samplesPerSecond: Double
        /// `samplesPerSecond` over the faster anchor's (over the fastest series' where no anchor
        /// has this workload).
        public let ratio: Double
        /// The rectangle: left, top, width and height (proportional to `ratio`).
        public let x, y, width, height: Double
    }

    /// The chart's title.
    public let title: String
    /// The series measured (first bar of each group).
    public let subject: Series
    /// The reference series.
    public let anchors: [Series]
    /// Workloads, left to right.
    public let workloads: [String]

    // Geometry (SVG user units).
    static let width = 960.0, height = 460.0
    static let plotLeft = 60.0, plotRight = 940.0, plotTop = 70.0, plotBottom = 390.0
    static let palette = ["#d9480f", "#1971c2", "#2f9e44", "#7048e8", "#868e96"]

    /// A chart of `subject` against `anchors` on `workloads` (by default the compass workloads
    /// that any series has, in the anchors' order).
    ///
    /// ```swift
    /// let chart = ThroughputChart(subject: peregrine, anchors: [keras, torch])
    /// ```
    public init(
        title: String = "Training and inference throughput, relative to the faster anchor",
        subject: Series, anchors: [Series], workloads: [String]? = nil
    ) {
        self.title = title
        self.subject = subject
        self.anchors = anchors
        let all = ([subject] + anchors).flatMap { $0.results.keys }
        let known = CompassWorkload.allCases.map(\.rawValue).filter(all.contains)
        let others = Set(all).subtracting(known).sorted()
        self.workloads = workloads ?? (known + others)
    }

    /// The largest value of the y axis: the largest ratio (at least 1.5, the goal line),
    /// rounded up to a multiple of 0.5.
    public var axisMaximum: Double {
        let top = Swift.max(1.5, groups.flatMap { $0.ratios }.max() ?? 0)
        return (top * 2).rounded(.up) / 2
    }

    /// Every bar, left to right.
    public var bars: [Bar] {
        let series = [subject] + anchors
        let groupList = groups
        let groupWidth = (Self.plotRight - Self.plotLeft) / Double(Swift.max(groupList.count, 1))
        let barWidth = groupWidth * 0.8 / Double(series.count)
        let scale = (Self.plotBottom - Self.plotTop) / axisMaximum
        var result: [Bar] = []
        for (g, group) in groupList.enumerated() {
            let left = Self.plotLeft + Double(g) * groupWidth + groupWidth * 0.1
            for (s, entry) in series.enumerated() {
                guard let value = group.values[s], let ratio = group.ratio(s) else { continue }
                let height = ratio * scale
                result.append(Bar(
                    series: entry.name, workload: group.workload, phase: group.phase,
                    samplesPerSecond: value, ratio: ratio,
                    x: left + Double(s) * barWidth, y: Self.plotBottom - height, width: barWidth, height: height))
            }
        }
        return result
    }

    /// The chart as an SVG document.
    ///
    /// ```swift
    /// let text = chart.svg()   // "<svg xmlns=…"
    /// ```
    public func svg() -> String {
        let series = [subject] + anchors
        let scale = (Self.plotBottom - Self.plotTop) / axisMaximum
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(Self.width))" height="\(f(Self.height))" \
            viewBox="0 0 \(f(Self.width)) \(f(Self.height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(Self.width / 2))" y="24" text-anchor="middle" font-size="16">\(escape(title))</text>

            """
        // Legend.
        for (s, entry) in series.enumerated() {
            let x = Self.plotLeft + Double(s) * 200
            out += "<rect x=\"\(f(x))\" y=\"38\" width=\"12\" height=\"12\" fill=\"\(color(s))\"/>"
            out += "<text x=\"\(f(x + 18))\" y=\"49\" font-size=\"12\">\(escape(entry.name))</text>\n"
        }
        // Axis, grid and reference lines.
        var tick = 0.0
        while tick <= axisMaximum + 1e-9 {
            let y = Self.plotBottom - tick * scale
            out += "<line x1=\"\(f(Self.plotLeft))\" y1=\"\(f(y))\" x2=\"\(f(Self.plotRight))\" y2=\"\(f(y))\" stroke=\"#e9ecef\"/>"
            out += "<text x=\"\(f(Self.plotLeft - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\">\(tick.formatted1)×</text>\n"
            tick += axisMaximum > 4 ? 1 : 0.5
        }
        for (level, label) in [(1.0, "faster anchor"), (1.5, "goal 1.5×")] {
            let y = Self.plotBottom - level * scale
            out += "<line x1=\"\(f(Self.plotLeft))\" y1=\"\(f(y))\" x2=\"\(f(Self.plotRight))\" y2=\"\(f(y))\" stroke=\"#495057\" stroke-dasharray=\"5,4\"/>"
            out += "<text x=\"\(f(Self.plotRight))\" y=\"\(f(y - 4))\" text-anchor=\"end\" font-size=\"10\" fill=\"#495057\">\(label)</text>\n"
        }
        out += "<line x1=\"\(f(Self.plotLeft))\" y1=\"\(f(Self.plotBottom))\" x2=\"\(f(Self.plotRight))\" y2=\"\(f(Self.plotBottom))\" stroke=\"black\"/>\n"
        out += "<text x=\"16\" y=\"\(f((Self.plotTop + Self.plotBottom) / 2))\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f((Self.plotTop + Self.plotBottom) / 2)))\">samples/s ÷ faster anchor's</text>\n"
        // Bars with their samples/s.
        let names = series.map(\.name)
        for bar in bars {
            let s = names.firstIndex(of: bar.series) ?? 0
            out += "<rect class=\"bar\" data-series=\"\(escape(bar.series))\" data-workload=\"\(escape(bar.workload))\" "
            out += "data-phase=\"\(bar.phase.rawValue)\" data-value=\"\(f(bar.samplesPerSecond))\" "
            out += "x=\"\(f(bar.x))\" y=\"\(f(bar.y))\" width=\"\(f(bar.width))\" height=\"\(f(bar.height))\" fill=\"\(color(s))\"/>"
            out += "<text x=\"\(f(bar.x + bar.width / 2))\" y=\"\(f(bar.y - 3))\" text-anchor=\"middle\" font-size=\"9\">\(Self.abbreviate(bar.samplesPerSecond))</text>\n"
        }
        // Group labels.
        let groupList = groups
        let groupWidth = (Self.plotRight - Self.plotLeft) / Double(Swift.max(groupList.count, 1))
        for (g, group) in groupList.enumerated() {
            let x = Self.plotLeft + (Double(g) + 0.5) * groupWidth
            out += "<text x=\"\(f(x))\" y=\"\(f(Self.plotBottom + 16))\" text-anchor=\"middle\" font-size=\"12\">\(escape(group.workload))</text>"
            out += "<text x=\"\(f(x))\" y=\"\(f(Self.plotBottom + 30))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#495057\">\(group.phase.rawValue)</text>\n"
        }
        out += "<text x=\"\(f(Self.plotLeft))\" y=\"\(f(Self.height - 16))\" font-size=\"10\" fill=\"#495057\">Labels: samples/s. Batch 128 (train, full steps with Adam), 256 (infer); 2 threads.</text>\n"
        out += "</svg>\n"
        return out
    }

    /// Writes ``svg()`` to `path`.
    ///
    /// ```swift
    /// try chart.write(to: "docs/throughput.svg")
    /// ```
    public func write(to path: String) throws {
        try Data(svg().utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Reads an anchors file (the format in the type's documentation).
    ///
    /// ```swift
    /// let file = try ThroughputChart.loadAnchors(from: "docs/anchors.json")
    /// ```
    public static func loadAnchors(from path: String) throws -> AnchorFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PeregrineError.invalidArgument(operation: "ThroughputChart.loadAnchors", expected: "a readable JSON file", actual: "\(path): \(error)")
        }
        do {
            return try JSONDecoder().decode(AnchorFile.self, from: data)
        } catch {
            throw PeregrineError.invalidArgument(
                operation: "ThroughputChart.loadAnchors",
                expected: #"{"anchors": [{"name": …, "results": {"mlp": {"train": …, "infer": …}}}]}"#,
                actual: "\(path): \(error)")
        }
    }

    /// "17.2k", "161k", "950": a samples/s label.
    static func abbreviate(_ value: Double) -> String {
        if value >= 100_000 { return "\(Int((value / 1000).rounded()))k" }
        if value >= 1000 { return "\(((value / 100).rounded() / 10).formatted1)k" }
        return "\(Int(value.rounded()))"
    }

    // MARK: - Groups

    struct Group {
        let workload: String
        let phase: Phase
        /// Per series (subject first), the samples/s or nil.
        let values: [Double?]
        /// The faster anchor's value, or the fastest series' when no anchor has one.
        let reference: Double?

        func ratio(_ s: Int) -> Double? {
            guard let value = values[s], let reference, reference > 0 else { return nil }
            return value / reference
        }

        var ratios: [Double] { values.indices.compactMap(ratio) }
    }

    var groups: [Group] {
        let series = [subject] + anchors
        var result: [Group] = []
        for workload in workloads {
            for phase in Phase.allCases {
                let values = series.map { entry -> Double? in
                    guard let rates = entry.results[workload] else { return nil }
                    return phase == .train ? rates.train : rates.infer
                }
                guard values.contains(where: { $0 != nil }) else { continue }
                let anchorBest = values.dropFirst().compactMap { $0 }.max()
                result.append(Group(
                    workload: workload, phase: phase, values: values,
                    reference: anchorBest ?? values.compactMap { $0 }.max()))
            }
        }
        return result
    }

    private func color(_ index: Int) -> String { Self.palette[index % Self.palette.count] }
    private func f(_ value: Double) -> String { value.formatted2 }
    private func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;")
            .replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}

extension Double {
    /// Two decimals, trailing zeros dropped ("12.5", "3", "0.25").
    fileprivate var formatted2: String { Self.trim((self * 100).rounded() / 100) }
    /// One decimal, trailing zero dropped.
    fileprivate var formatted1: String { Self.trim((self * 10).rounded() / 10) }
    private static func trim(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

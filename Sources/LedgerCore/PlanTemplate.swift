/// A named split of an invoice into stages by percentage, such as "Thirds".
public struct PlanTemplate: Hashable, Sendable, Codable {
    /// One stage of a template: what the installment is called and its share of the target.
    public struct Stage: Hashable, Sendable, Codable {
        public let label: String
        public let percentage: PartsPerMillion

        /// Makes a stage; the label is checked when the template is made.
        public init(label: String, percentage: PartsPerMillion) {
            self.label = label
            self.percentage = percentage
        }
    }

    public let name: String
    public let description: String?
    public let stages: [Stage]

    /// Makes a template; throws unless it has 2–12 stages with labels whose percentages sum to
    /// exactly 100%.
    public init(name: String, description: String? = nil, stages: [Stage]) throws(LedgerError) {
        self.name = try Validate.label(name, what: "template name")
        self.description = try description.map { d throws(LedgerError) in try Validate.text(d, what: "template description") }
        guard (Limits.planRowsMin...Limits.planRowsMax).contains(stages.count) else {
            throw LedgerError(.stageCountInvalid, "A template has \(Limits.planRowsMin) to \(Limits.planRowsMax) stages; add or remove stages.")
        }
        var checked: [Stage] = []
        var sum: Int64 = 0
        for stage in stages {
            let label = try Validate.label(stage.label, what: "stage label")
            guard stage.percentage.value > 0 else {
                throw LedgerError(.percentagesNotWhole, "Every stage needs a share above 0%; remove the empty stage.")
            }
            sum += stage.percentage.value
            checked.append(Stage(label: label, percentage: stage.percentage))
        }
        guard sum == Limits.ppmWhole else {
            throw LedgerError(.percentagesNotWhole, "The stages' percentages must add up to exactly 100%; adjust them.")
        }
        self.stages = checked
    }

    /// The three templates every company has.
    public static let builtIns: [PlanTemplate] = [fiftyFifty, sixtyForty, thirds]

    /// Half up front, half at the end.
    public static let fiftyFifty = try! PlanTemplate(name: "50/50 Split", description: "Half as a deposit, half on completion.", stages: [
        Stage(label: "Deposit", percentage: try! PartsPerMillion(500_000)),
        Stage(label: "Final Payment", percentage: try! PartsPerMillion(500_000)),
    ])

    /// 60% deposit, 40% at the end.
    public static let sixtyForty = try! PlanTemplate(name: "60/40 Deposit", description: "A 60% deposit, 40% on completion.", stages: [
        Stage(label: "Deposit", percentage: try! PartsPerMillion(600_000)),
        Stage(label: "Final Payment", percentage: try! PartsPerMillion(400_000)),
    ])

    /// Three stages; the extra part per million sits on the deposit so the total is exact.
    public static let thirds = try! PlanTemplate(name: "Thirds", description: "Deposit, progress payment and final payment.", stages: [
        Stage(label: "Deposit", percentage: try! PartsPerMillion(333_334)),
        Stage(label: "Progress Payment", percentage: try! PartsPerMillion(333_333)),
        Stage(label: "Final Payment", percentage: try! PartsPerMillion(333_333)),
    ])
}

extension String {
    /// Whether trimming would change the text (checked without allocating).
    var hasEdgeWhitespace: Bool {
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
        return utf8.first.map(isSpace) == true || utf8.last.map(isSpace) == true
    }
}

/// Checks for free text shared by every entity.
enum Validate {
    /// A trimmed, non-empty label of at most `Limits.labelLengthMax` bytes.
    static func label(_ text: String, what: String) throws(LedgerError) -> String {
        let trimmed = text.hasEdgeWhitespace ? String(text.trimmingASCIIWhitespace()) : text
        guard !trimmed.isEmpty else {
            throw LedgerError(.labelInvalid, "The \(what) is empty; give it a name people will recognise.")
        }
        guard trimmed.utf8.count <= Limits.labelLengthMax else {
            throw LedgerError(.labelInvalid, "The \(what) is longer than \(Limits.labelLengthMax) bytes; shorten it.")
        }
        return trimmed
    }

    /// Free text of at most `limit` bytes (trimmed; may be empty).
    static func text(_ text: String, what: String, limit: Int = Limits.textLengthMax) throws(LedgerError) -> String {
        let trimmed = text.hasEdgeWhitespace ? String(text.trimmingASCIIWhitespace()) : text
        guard trimmed.utf8.count <= limit else {
            throw LedgerError(.textTooLong, "The \(what) is longer than \(limit) bytes; shorten it.")
        }
        return trimmed
    }

    /// A positive amount within `Limits.amountMinorMax`.
    static func positiveAmount(_ amountMinor: Int64, what: String) throws(LedgerError) {
        guard amountMinor > 0 else {
            throw LedgerError(.amountNotPositive, "The \(what) must be greater than zero.")
        }
        guard amountMinor <= Limits.amountMinorMax else {
            throw LedgerError(.amountTooLarge, "The \(what) is larger than the ledger accepts for one figure; check for a typo.")
        }
    }
}

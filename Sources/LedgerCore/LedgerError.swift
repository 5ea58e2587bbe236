/// The one error type of the ledger rules: a stable code plus a message that says what was wrong
/// and what to do about it.
///
/// Messages never contain amounts, customer names or tokens (STYLE: errors), so they are safe
/// to log at the default level. A caller that wants to show an amount (for example what is
/// still refundable) reads it from the state itself.
public struct LedgerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A high-level classification that scripts and tests can rely on.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Amounts and currencies.
        public static let amountNotPositive = Code(rawValue: "amount_not_positive")
        public static let amountTooLarge = Code(rawValue: "amount_too_large")
        public static let amountOverflow = Code(rawValue: "amount_overflow")
        public static let amountMalformed = Code(rawValue: "amount_malformed")
        public static let currencyInvalid = Code(rawValue: "currency_invalid")
        public static let currencyMismatch = Code(rawValue: "currency_mismatch")
        public static let percentageMalformed = Code(rawValue: "percentage_malformed")
        public static let dateInvalid = Code(rawValue: "date_invalid")
        public static let idMalformed = Code(rawValue: "id_malformed")

        // Settings and templates.
        public static let settingsInvalid = Code(rawValue: "settings_invalid")
        public static let templateInvalid = Code(rawValue: "template_invalid")
        public static let templateUnknown = Code(rawValue: "template_unknown")
        public static let stageCountInvalid = Code(rawValue: "stage_count_invalid")
        public static let percentagesNotWhole = Code(rawValue: "percentages_not_whole")
        public static let labelInvalid = Code(rawValue: "label_invalid")
        public static let textTooLong = Code(rawValue: "text_too_long")

        // Jobs, invoices and plans.
        public static let jobUnknown = Code(rawValue: "job_unknown")
        public static let jobExists = Code(rawValue: "job_exists")
        public static let invoiceMissing = Code(rawValue: "invoice_missing")
        public static let invoiceFinalized = Code(rawValue: "invoice_finalized")
        public static let invoiceVoided = Code(rawValue: "invoice_voided")
        public static let planMissing = Code(rawValue: "plan_missing")
        public static let planExists = Code(rawValue: "plan_exists")
        public static let planCancelled = Code(rawValue: "plan_cancelled")
        public static let planLocked = Code(rawValue: "plan_locked")
        public static let planNotFullyAllocated = Code(rawValue: "plan_not_fully_allocated")
        public static let installmentNotPositive = Code(rawValue: "installment_not_positive")
        public static let installmentUnknown = Code(rawValue: "installment_unknown")
        public static let installmentPaid = Code(rawValue: "installment_paid")
        public static let dueDatesOutOfOrder = Code(rawValue: "due_dates_out_of_order")
        public static let dueDateBeforePlanDay = Code(rawValue: "due_date_before_plan_day")
        public static let planTargetNotPositive = Code(rawValue: "plan_target_not_positive")

        // Who may do what.
        public static let programDisabled = Code(rawValue: "program_disabled")
        public static let technicianOverrideOff = Code(rawValue: "technician_override_off")
        public static let departmentWithoutProgram = Code(rawValue: "department_without_program")
        public static let userOptedOut = Code(rawValue: "user_opted_out")
        public static let officeRoleRequired = Code(rawValue: "office_role_required")

        // Money events.
        public static let paymentUnknown = Code(rawValue: "payment_unknown")
        public static let paymentExists = Code(rawValue: "payment_exists")
        public static let paymentStateInvalid = Code(rawValue: "payment_state_invalid")
        public static let paymentPending = Code(rawValue: "payment_pending")
        public static let overpaymentNotPermitted = Code(rawValue: "overpayment_not_permitted")
        public static let refundExceedsRefundable = Code(rawValue: "refund_exceeds_refundable")
        public static let refundExists = Code(rawValue: "refund_exists")
        public static let paymentNotRefundable = Code(rawValue: "payment_not_refundable")
        public static let changeOrderUnknown = Code(rawValue: "change_order_unknown")
        public static let changeOrderExists = Code(rawValue: "change_order_exists")
        public static let changeOrderDecided = Code(rawValue: "change_order_decided")
        public static let changeOrderNegativeTotal = Code(rawValue: "change_order_negative_total")
        public static let limitExceeded = Code(rawValue: "limit_exceeded")

        // Sync.
        public static let actionMalformed = Code(rawValue: "action_malformed")
        public static let dotReused = Code(rawValue: "dot_reused")
        public static let reviewCaseUnknown = Code(rawValue: "review_case_unknown")
        public static let reviewCaseResolved = Code(rawValue: "review_case_resolved")
        public static let resolutionNotOffered = Code(rawValue: "resolution_not_offered")
        public static let resolutionRefused = Code(rawValue: "resolution_refused")
    }

    /// What kind of problem this is.
    public var code: Code
    /// What went wrong and how to put it right, without amounts or customer data.
    public var message: String

    /// Makes an error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

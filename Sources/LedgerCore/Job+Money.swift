extension Job {
    /// Sets or re-sets the job's invoice. A saved plan keeps its target; if the total moves,
    /// `planTargetDiffersFromInvoice` turns true.
    public mutating func setInvoice(number: String, baseTotalMinor: Int64, issuedOn: CalendarDate?) throws(LedgerError) {
        if let invoice {
            guard invoice.finalizedOn == nil else {
                throw LedgerError(.invoiceFinalized, "The invoice is finalized; record a change order instead of editing it.")
            }
            guard invoice.voidedOn == nil else {
                throw LedgerError(.invoiceVoided, "The invoice is void and cannot be edited.")
            }
        }
        let number = try Validate.text(number, what: "invoice number", limit: Limits.shortTextLengthMax)
        try Validate.positiveAmount(baseTotalMinor, what: "invoice total")
        var next = invoice ?? Invoice(number: number, baseTotalMinor: baseTotalMinor, issuedOn: issuedOn)
        next.number = number
        next.baseTotalMinor = baseTotalMinor
        next.issuedOn = issuedOn
        try checkTotalNotNegative(invoice: next, changeOrders: changeOrders)
        invoice = next
    }

    /// Marks the invoice final (revenue reports list finalized invoices). Finalizing twice
    /// keeps the first day.
    public mutating func finalizeInvoice(on day: CalendarDate) throws(LedgerError) {
        guard var next = invoice else {
            throw LedgerError(.invoiceMissing, "This job has no invoice to finalize; set the invoice first.")
        }
        guard next.voidedOn == nil else { throw LedgerError(.invoiceVoided, "The invoice is void and cannot be finalized.") }
        guard next.finalizedOn == nil else { return }
        next.finalizedOn = day
        invoice = next
    }

    /// Voids the invoice (office roles): it owes nothing, money already received becomes
    /// customer credit, and an active plan is cancelled.
    public mutating func voidInvoice(on day: CalendarDate, actor: Actor, settings: CompanySettings) throws(LedgerError) {
        guard actor.role.isOffice else {
            throw LedgerError(.officeRoleRequired, "Only the office may void an invoice; ask the office.")
        }
        guard var next = invoice else {
            throw LedgerError(.invoiceMissing, "This job has no invoice to void.")
        }
        guard next.voidedOn == nil else { return }
        next.voidedOn = day
        if let current = plan, current.isActive { plan = cancelled(current, day: day, actor: actor) }
        invoice = next
    }

    /// Updates the job's informational fields.
    public mutating func updateInfo(number: String? = nil, customer: Customer? = nil, department: String?? = nil, notes: String? = nil) throws(LedgerError) {
        let number = try number.map { n throws(LedgerError) in try Validate.text(n, what: "job number", limit: Limits.shortTextLengthMax) }
        let customer = try customer.map { c throws(LedgerError) in
            Customer(name: try Validate.label(c.name, what: "customer name"), remindersOptOut: c.remindersOptOut)
        }
        let department = try department.map { d throws(LedgerError) in try d.map { d throws(LedgerError) in try Validate.label(d, what: "department name") } }
        let notes = try notes.map { n throws(LedgerError) in try Validate.text(n, what: "note") }
        if let number { self.number = number }
        if let customer { self.customer = customer }
        if let department { self.department = department }
        if let notes { self.notes = notes }
    }

    /// What a technician is told before collecting `amountMinor`, or the refusal of an
    /// overpayment ("exceeds the invoice balance — overpayment is not permitted").
    ///
    /// Pending payments count as collected here, so a card still settling is not collected twice.
    public func collectionCheck(amountMinor: Int64, settings: CompanySettings) throws(LedgerError) -> [CollectionWarning] {
        try Validate.positiveAmount(amountMinor, what: "payment amount")
        guard invoice != nil else {
            throw LedgerError(.invoiceMissing, "This job has no invoice yet; set the invoice before collecting.")
        }
        guard amountMinor <= totals.balanceIfPendingCompletesMinor else {
            throw LedgerError(.overpaymentNotPermitted, "This exceeds the invoice balance — overpayment is not permitted. Collect at most the balance.")
        }
        guard let current = currentInstallment(provisional: true) else { return [] }
        if amountMinor < current.remainingMinor { return [.lessThanCurrentInstallment] }
        if amountMinor > current.remainingMinor { return [.exceedsCurrentInstallment] }
        return []
    }

    /// Books a payment. Money facts are never refused for the balance: what exceeds it becomes
    /// customer credit. Returns how much of this payment went to credit.
    ///
    /// Throws only for invalid input: a non-positive or too-large amount, another currency, a
    /// duplicate id, a pending state for a method that settles at once, a failed state, or too
    /// many payments.
    @discardableResult
    public mutating func recordPayment(_ payment: Payment) throws(LedgerError) -> Int64 {
        try Validate.positiveAmount(payment.amountMinor, what: "payment amount")
        try checkCurrency(payment.currency, what: "payment")
        if let reference = payment.reference {
            _ = try Validate.text(reference, what: "payment reference", limit: Limits.shortTextLengthMax)
        }
        guard cache.paymentPositions[payment.id] == nil else {
            throw LedgerError(.paymentExists, "A payment with this id is already booked; it was not booked twice.")
        }
        switch payment.state {
        case .completed: break
        case .pending:
            guard payment.method.maySettleLater else {
                throw LedgerError(.paymentStateInvalid, "Cash, check and other payments are complete when collected; record them as completed.")
            }
        case .failed:
            throw LedgerError(.paymentStateInvalid, "A payment is recorded as pending or completed; mark it failed afterwards if it does not settle.")
        }
        guard payments.count < Limits.paymentsPerJobMax else {
            throw LedgerError(.limitExceeded, "This job has the most payments the ledger keeps for one job; contact support.")
        }
        let creditBefore = totals.creditMinor
        cache.paymentPositions[payment.id] = payments.count
        payments.append(payment)
        if payment.state == .completed {
            cache.completedMinor += payment.amountMinor
            cache.netCashByMethod[payment.method.ordinal] += payment.amountMinor
        } else {
            cache.pendingMinor += payment.amountMinor
        }
        return totals.creditMinor - creditBefore
    }

    /// Settles a pending payment. Returns how much of it went to customer credit.
    @discardableResult
    public mutating func confirmPayment(_ id: PaymentID) throws(LedgerError) -> Int64 {
        let index = try pendingPaymentIndex(id)
        let creditBefore = totals.creditMinor
        let payment = payments[index]
        payments[index].state = .completed
        cache.pendingMinor -= payment.amountMinor
        cache.completedMinor += payment.amountMinor
        cache.netCashByMethod[payment.method.ordinal] += payment.amountMinor
        return totals.creditMinor - creditBefore
    }

    /// Marks a pending payment as failed; it then counts for nothing.
    public mutating func failPayment(_ id: PaymentID) throws(LedgerError) {
        let index = try pendingPaymentIndex(id)
        payments[index].state = .failed
        cache.pendingMinor -= payments[index].amountMinor
    }

    private func pendingPaymentIndex(_ id: PaymentID) throws(LedgerError) -> Int {
        guard let index = cache.paymentPositions[id] else {
            throw LedgerError(.paymentUnknown, "This job has no payment with that id; list the job's payments.")
        }
        guard payments[index].state == .pending else {
            throw LedgerError(.paymentStateInvalid, "Only a pending payment can be confirmed or failed; this one is already \(payments[index].state.rawValue).")
        }
        return index
    }

    /// Books a refund of part or all of one completed payment. It never un-pays an installment;
    /// the balance grows by the refund. With `cancelsRemainingPlan` it also cancels the plan.
    ///
    /// With `bookingExcess` (the merge of money facts from devices that could not see each
    /// other), a refund beyond what is refundable, or of a payment that has not completed, is
    /// booked anyway; the return value is the part that exceeded what was refundable, which the
    /// caller turns into a review case. Otherwise such a refund throws and the return is 0.
    @discardableResult
    public mutating func recordRefund(_ refund: Refund, settings: CompanySettings, bookingExcess: Bool = false) throws(LedgerError) -> Int64 {
        try Validate.positiveAmount(refund.amountMinor, what: "refund amount")
        try checkCurrency(refund.currency, what: "refund")
        _ = try Validate.text(refund.reason, what: "refund reason")
        guard !cache.refundIDs.contains(refund.id) else {
            throw LedgerError(.refundExists, "A refund with this id is already booked; it was not booked twice.")
        }
        guard let paymentIndex = cache.paymentPositions[refund.paymentID], let refundable = refundableMinor(of: refund.paymentID) else {
            throw LedgerError(.paymentUnknown, "A refund must name one of this job's payments; list the job's payments and pick one.")
        }
        let payment = payments[paymentIndex]
        if !bookingExcess {
            guard payment.state == .completed else {
                throw LedgerError(.paymentNotRefundable, "Only a completed payment can be refunded; a pending one can be marked failed instead.")
            }
            guard refund.amountMinor <= refundable else {
                throw LedgerError(.refundExceedsRefundable, "The refund is more than what is left to refund on that payment; refund at most its refundable amount.")
            }
        }
        guard refunds.count < Limits.refundsPerJobMax else {
            throw LedgerError(.limitExceeded, "This job has the most refunds the ledger keeps for one job; contact support.")
        }
        var cancelledPlan: Plan?
        if refund.cancelsRemainingPlan, let current = plan, current.isActive {
            try checkCancelAuthority(actor: refund.actor, settings: settings)
            cancelledPlan = cancelled(current, day: refund.occurredOn, actor: refund.actor)
        }
        if let cancelledPlan { plan = cancelledPlan }
        refunds.append(refund)
        cache.refundIDs.insert(refund.id)
        cache.refundedMinor += refund.amountMinor
        cache.refundedByPayment[refund.paymentID, default: 0] += refund.amountMinor
        cache.netCashByMethod[payment.method.ordinal] -= refund.amountMinor
        return max(0, refund.amountMinor - refundable)
    }

    /// Records a proposed change order; anyone on the job may propose one.
    public mutating func proposeChangeOrder(_ order: ChangeOrder) throws(LedgerError) {
        guard order.amountMinor != 0 else {
            throw LedgerError(.amountNotPositive, "A change order must change the total; give it an amount (negative to take work away).")
        }
        guard order.amountMinor.magnitude <= UInt64(Limits.amountMinorMax) else {
            throw LedgerError(.amountTooLarge, "The change order's amount is larger than the ledger accepts for one figure.")
        }
        try checkCurrency(order.currency, what: "change order")
        _ = try Validate.label(order.summary, what: "change order summary")
        guard !changeOrders.contains(where: { $0.id == order.id }) else {
            throw LedgerError(.changeOrderExists, "A change order with this id already exists; it was not added twice.")
        }
        guard changeOrders.count < Limits.changeOrdersPerJobMax else {
            throw LedgerError(.limitExceeded, "This job has the most change orders the ledger keeps for one job.")
        }
        changeOrders.append(order)
    }

    /// Approves a proposed change order (office roles). Only approved orders change the invoice
    /// total; an active plan keeps its target and is flagged as differing.
    public mutating func approveChangeOrder(_ id: ChangeOrderID, reason: String, day: CalendarDate, actor: Actor) throws(LedgerError) {
        try decideChangeOrder(id, to: .approved, reason: reason, day: day, actor: actor)
    }

    /// Rejects a proposed change order (office roles).
    public mutating func rejectChangeOrder(_ id: ChangeOrderID, reason: String, day: CalendarDate, actor: Actor) throws(LedgerError) {
        try decideChangeOrder(id, to: .rejected, reason: reason, day: day, actor: actor)
    }

    private mutating func decideChangeOrder(_ id: ChangeOrderID, to status: ChangeOrder.Status, reason: String, day: CalendarDate, actor: Actor) throws(LedgerError) {
        guard actor.role.isOffice else {
            throw LedgerError(.officeRoleRequired, "Only the office may approve or reject a change order; ask the office.")
        }
        guard let index = changeOrders.firstIndex(where: { $0.id == id }) else {
            throw LedgerError(.changeOrderUnknown, "This job has no change order with that id.")
        }
        guard changeOrders[index].status == .proposed else {
            throw LedgerError(.changeOrderDecided, "This change order was already \(changeOrders[index].status.rawValue); propose a new one to change it.")
        }
        let reason = try Validate.text(reason, what: "reason")
        var orders = changeOrders
        orders[index].status = status
        orders[index].decision = ChangeOrder.Decision(by: actor, reason: reason, on: day)
        if status == .approved {
            guard let invoice else {
                throw LedgerError(.invoiceMissing, "Set the job's invoice before approving a change order.")
            }
            guard invoice.voidedOn == nil else { throw LedgerError(.invoiceVoided, "The invoice is void; a change order cannot change it.") }
            guard invoice.finalizedOn == nil else {
                throw LedgerError(.invoiceFinalized, "The invoice is finalized; its total can no longer change.")
            }
            try checkTotalNotNegative(invoice: invoice, changeOrders: orders)
        }
        if status == .approved { cache.approvedChangeOrdersMinor += orders[index].amountMinor }
        changeOrders = orders
    }

    private func checkCurrency(_ currency: Currency, what: String) throws(LedgerError) {
        guard currency == self.currency else {
            throw LedgerError(.currencyMismatch, "The \(what) is in a different currency from the job; a job uses one currency, so record it in the job's currency.")
        }
    }

    private func checkTotalNotNegative(invoice: Invoice, changeOrders: [ChangeOrder]) throws(LedgerError) {
        let total = changeOrders.filter { $0.status == .approved }.reduce(invoice.baseTotalMinor) { $0 + $1.amountMinor }
        guard total >= 0 else {
            throw LedgerError(.changeOrderNegativeTotal, "This would bring the invoice total below zero; lower the reduction.")
        }
        guard total <= Limits.amountMinorMax else {
            throw LedgerError(.amountTooLarge, "This would bring the invoice total above what the ledger accepts for one figure.")
        }
    }
}

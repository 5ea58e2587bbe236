extension Job {
    /// Saves a new plan on the invoice balance.
    ///
    /// - Parameters:
    ///   - id: the plan's id, the dot of the saving action (it also mints the row ids).
    ///   - planDay: the business day of the save.
    /// Throws when the invoice is missing or voided, a plan is already active, a payment is still
    /// pending, the actor may not make plans, or the draft breaks a plan rule.
    public mutating func createPlan(id: PlanID, draft: PlanDraft, planDay: CalendarDate, actor: Actor, settings: CompanySettings) throws(LedgerError) {
        if let plan, plan.isActive {
            throw LedgerError(.planExists, "This job already has an active \(settings.programName); edit it or cancel it first.")
        }
        try settings.checkPlanAuthority(actor: actor, department: department, creating: true)
        let newPlan = try buildPlan(id: id, draft: draft, planDay: planDay, rowOrigin: id.dot, previous: nil, settings: settings)
        if let old = plan { previousPlans.append(old) }
        plan = newPlan
    }

    /// Replaces the rows of the active plan before anything is paid against it.
    ///
    /// The target is snapshotted again from the current invoice balance, which is also how a
    /// "target differs" flag is cleared. Throws `planLocked` once any payment is allocated.
    public mutating func editPlan(draft: PlanDraft, planDay: CalendarDate, actor: Actor, settings: CompanySettings, editDot: Dot) throws(LedgerError) {
        let current = try activePlan(settings)
        try settings.checkPlanAuthority(actor: actor, department: department, creating: false)
        guard !isPlanLocked else {
            throw LedgerError(.planLocked, "A payment is already allocated to this \(settings.programName), so its amounts are fixed; only labels and due dates of unpaid \(settings.intervalNamePluralLowercased) may change, or it may be cancelled.")
        }
        plan = try buildPlan(id: current.id, draft: draft, planDay: planDay, rowOrigin: editDot, previous: current, settings: settings)
    }

    /// Changes the label and/or due date of one installment nothing is allocated to.
    ///
    /// On a locked plan only office roles may do this. Pass `dueDate: .some(nil)` to clear a date.
    public mutating func editInstallment(
        _ rowID: InstallmentID, label: String? = nil, dueDate: CalendarDate?? = nil,
        day: CalendarDate, actor: Actor, settings: CompanySettings
    ) throws(LedgerError) {
        var current = try activePlan(settings)
        guard let index = current.rows.firstIndex(where: { $0.id == rowID }) else {
            throw LedgerError(.installmentUnknown, "This \(settings.programName) has no such \(settings.intervalName.lowercased()); show the plan to see its rows.")
        }
        let rows = allocation(of: current)
        if rows.contains(where: \.isTouched) {
            guard actor.role.isOffice else {
                throw LedgerError(.officeRoleRequired, "Once a payment is allocated, only the office may change this \(settings.programName); ask the office.")
            }
        } else {
            try settings.checkPlanAuthority(actor: actor, department: department, creating: false)
        }
        guard !rows[index].isTouched else {
            throw LedgerError(.installmentPaid, "This \(settings.intervalName.lowercased()) is paid or partly paid, so it can no longer change.")
        }
        if let label { current.rows[index].label = try Validate.label(label, what: "installment label") }
        if let newDate = dueDate, newDate != current.rows[index].dueDate {
            if let date = newDate {
                guard date >= day else {
                    throw LedgerError(.dueDateBeforePlanDay, "The new due date is before today; pick today or a later day.")
                }
                let earlier = current.rows[..<index].compactMap(\.dueDate).last
                let later = current.rows[(index + 1)...].compactMap(\.dueDate).first
                guard earlier.map({ $0 <= date }) ?? true, later.map({ date <= $0 }) ?? true else {
                    throw LedgerError(.dueDatesOutOfOrder, "The new due date would put this \(settings.intervalName.lowercased()) out of order with its neighbours; pick a date between them.")
                }
            }
            current.rows[index].dueDate = newDate
            current.rows[index].dueDateIsDefault = false
        }
        plan = current
    }

    /// Cancels the rest of the active plan: unpaid rows drop out, paid rows stay in history and
    /// the invoice becomes a plain bill. Cancelling a cancelled plan changes nothing.
    ///
    /// Returns whether this call cancelled it.
    @discardableResult
    public mutating func cancelPlan(day: CalendarDate, actor: Actor, settings: CompanySettings) throws(LedgerError) -> Bool {
        guard let current = plan else {
            throw LedgerError(.planMissing, "This job has no \(settings.programName) to cancel.")
        }
        guard current.isActive else { return false }
        try checkCancelAuthority(actor: actor, settings: settings)
        plan = cancelled(current, day: day, actor: actor)
        return true
    }

    func checkCancelAuthority(actor: Actor, settings: CompanySettings) throws(LedgerError) {
        if isPlanLocked {
            guard actor.role.isOffice else {
                throw LedgerError(.officeRoleRequired, "Once a payment is allocated, only the office may cancel this \(settings.programName); ask the office.")
            }
        } else {
            try settings.checkPlanAuthority(actor: actor, department: department, creating: false)
        }
    }

    func cancelled(_ current: Plan, day: CalendarDate, actor: Actor) -> Plan {
        let totals = totals
        var result = current
        let pool = max(0, totals.completedMinor + totals.pendingMinor - current.baselinePaidMinor)
        result.cancellation = Plan.Cancellation(on: day, by: actor, poolCapMinor: min(pool, current.targetMinor))
        return result
    }

    private func activePlan(_ settings: CompanySettings) throws(LedgerError) -> Plan {
        guard let plan else {
            throw LedgerError(.planMissing, "This job has no \(settings.programName); create one first.")
        }
        guard plan.isActive else {
            throw LedgerError(.planCancelled, "This \(settings.programName) was cancelled; create a new one instead.")
        }
        return plan
    }

    private func buildPlan(id: PlanID, draft: PlanDraft, planDay: CalendarDate, rowOrigin: Dot, previous: Plan?, settings: CompanySettings) throws(LedgerError) -> Plan {
        guard let invoice else {
            throw LedgerError(.invoiceMissing, "A \(settings.programName) attaches to an invoice; set the job's invoice first.")
        }
        guard invoice.voidedOn == nil else {
            throw LedgerError(.invoiceVoided, "The invoice is void, so nothing can be scheduled on it.")
        }
        let totals = totals
        guard totals.pendingMinor == 0 else {
            throw LedgerError(.paymentPending, "A payment on this job is still pending; confirm or fail it before saving a \(settings.programName).")
        }
        return try Plan.build(
            id: id, draft: draft, targetMinor: totals.balanceMinor, invoiceTotalMinor: totals.invoiceTotalMinor,
            baselinePaidMinor: totals.completedMinor, invoiceDate: invoice.issuedOn, intervalDays: settings.intervalDays,
            planDay: planDay, rowOrigin: rowOrigin, previous: previous)
    }
}

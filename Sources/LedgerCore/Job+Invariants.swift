extension Job {
    /// Every broken invariant of this job, as sentences; empty when the job is sound.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        let totals = totals
        if recountedTotals() != totals { problems.append("running totals differ from a recount of the events") }
        if JobCache(rebuildingFrom: self) != cache { problems.append("the lookup indexes differ from a rebuild") }
        func check(_ condition: Bool, _ problem: @autoclosure () -> String) {
            if !condition { problems.append(problem()) }
        }

        check(Set(payments.map(\.id)).count == payments.count, "two payments share an id")
        check(Set(refunds.map(\.id)).count == refunds.count, "two refunds share an id")
        check(Set(changeOrders.map(\.id)).count == changeOrders.count, "two change orders share an id")
        check(payments.allSatisfy { $0.currency == currency } && refunds.allSatisfy { $0.currency == currency }
              && changeOrders.allSatisfy { $0.currency == currency }, "a money event is not in the job's currency")
        for payment in payments {
            check(payment.amountMinor > 0 && payment.amountMinor <= Limits.amountMinorMax, "payment \(payment.id) has an amount out of range")
            check(payment.state != .pending || payment.method.maySettleLater, "payment \(payment.id) is pending but its method settles at once")
        }
        for payment in payments {
            let refunded = refunds.filter { $0.paymentID == payment.id }.reduce(Int64(0)) { $0 + $1.amountMinor }
            // Devices that could not see each other may refund too much; that is booked, but
            // only with a review case that puts it in front of a person.
            let flagged = sync.reviewCases.contains { $0.kind == .refundExceedsPayment && $0.payment == payment.id }
            check(refunded <= payment.amountMinor || flagged, "payment \(payment.id) is refunded beyond its amount without a review case")
            check(refunded == 0 || payment.state == .completed || flagged, "payment \(payment.id) is refunded but not completed, without a review case")
        }
        for refund in refunds {
            check(payments.contains { $0.id == refund.paymentID }, "refund \(refund.id) names an unknown payment")
            check(refund.amountMinor > 0, "refund \(refund.id) is not positive")
        }
        check(totals.invoiceTotalMinor >= 0, "the invoice total is negative")
        check(totals.balanceMinor == 0 || totals.creditMinor == 0, "the job shows both a balance and a credit")
        check(totals.completedMinor >= 0 && totals.pendingMinor >= 0 && totals.refundedMinor >= 0, "a running total is negative")

        for plan in previousPlans + (plan.map { [$0] } ?? []) {
            problems += planViolations(plan, totals: totals).map { "plan \(plan.id): \($0)" }
        }
        check(previousPlans.allSatisfy { !$0.isActive }, "an earlier plan is still active")
        check(Set(sync.dots).count == sync.dots.count, "a dot left two traces on the job")
        check(sync.dots.allSatisfy { sync.versionVector.contains($0) }, "the version vector misses a dot of the job")
        check((sync.paymentMarks.marks + sync.planMarks.marks).allSatisfy { sync.versionVector[$0.replica] > 0 },
              "a payment or plan change comes from a replica the job's vector lacks")
        check(Set(sync.reviewCases.map(\.id)).count == sync.reviewCases.count, "two review cases share an id")
        return problems
    }

    /// Invariants of a job built only by the merge (`Ledger.apply`): money anomalies always
    /// carry a review case. Direct calls to the rules (as the tests of single rules make) do not
    /// raise cases, so this is checked apart.
    public func mergeInvariantViolations() -> [String] {
        var problems: [String] = []
        if totals.creditMinor > 0 && !sync.reviewCases.contains(where: { ReviewCase.Kind.creditKinds.contains($0.kind) }) {
            problems.append("the job shows customer credit without a review case")
        }
        return problems
    }

    private func planViolations(_ plan: Plan, totals: Totals) -> [String] {
        var problems: [String] = []
        func check(_ condition: Bool, _ problem: @autoclosure () -> String) {
            if !condition { problems.append(problem()) }
        }
        check((Limits.planRowsMin...Limits.planRowsMax).contains(plan.rows.count), "has \(plan.rows.count) rows")
        check(plan.rows.allSatisfy { $0.amountMinor > 0 }, "has a row that is not positive")
        check(plan.rows.reduce(0) { $0 + $1.amountMinor } == plan.targetMinor, "rows do not sum to the target")
        check(Set(plan.rows.map(\.id)).count == plan.rows.count, "two rows share an id")
        let dates = plan.rows.compactMap(\.dueDate)
        check(zip(dates, dates.dropFirst()).allSatisfy { $0 <= $1 }, "due dates go backwards")

        let rows = allocation(of: plan, totals: totals)
        for row in rows {
            check(0 <= row.completedMinor && row.completedMinor <= row.provisionalMinor && row.provisionalMinor <= row.amountMinor,
                  "row \(row.id) is allocated outside 0 … amount")
        }
        // Oldest first: a row may hold money only when every row before it is full.
        for (earlier, later) in zip(rows, rows.dropFirst()) {
            check(later.completedMinor == 0 || earlier.isPaid, "a later row is paid before an earlier one is full")
        }
        let cap = plan.cancellation?.poolCapMinor ?? Int64.max
        let pool = min(cap, max(0, totals.completedMinor - plan.baselinePaidMinor))
        let allocated = rows.reduce(Int64(0)) { $0 + $1.completedMinor }
        check(allocated == min(pool, plan.targetMinor), "allocated total differs from min(pool, target)")

        // The per-payment recomputation must give the same per-row totals.
        var byRow: [InstallmentID: Int64] = [:]
        for part in coverage(of: plan) { byRow[part.row, default: 0] += part.amountMinor }
        for row in rows {
            check(byRow[row.id, default: 0] == row.completedMinor, "row \(row.id) differs from its per-payment recomputation")
        }
        if let cancellation = plan.cancellation {
            check(cancellation.poolCapMinor >= 0 && cancellation.poolCapMinor <= plan.targetMinor, "the cancellation cap is out of range")
        }
        return problems
    }
}

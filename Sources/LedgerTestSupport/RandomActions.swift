import LedgerCore

/// Random actions covering every payload kind, for round-trip and encoding tests.
public enum RandomActions {
    public static let users = ["tech-ana", "office-ben", "owner-cy"].map { try! UserID($0) }
    public static let others = (1...5).map { ReplicaID(high: UInt64($0), low: 99) }

    public static func dot(_ rng: inout SeededRandom) -> Dot { Dot(replica: rng.pick(others), counter: UInt64(rng.int(in: 1...100_000))) }
    public static func text(_ rng: inout SeededRandom) -> String { rng.pick(["", "Deposit", "gate code 1234", "Zoë Ünlü ✓", String(repeating: "x", count: 80)]) }
    public static func day(_ rng: inout SeededRandom) -> CalendarDate { try! CalendarDate(daysSinceEpoch: rng.int(in: 0...40_000)) }
    public static func currency(_ rng: inout SeededRandom) -> Currency { try! Currency(code: rng.pick(["USD", "EUR", "JPY"])) }
    /// Half of them whole hundreds (and some zero), which go on the wire in the other form.
    public static func amount(_ rng: inout SeededRandom) -> Int64 {
        rng.chance(50) ? rng.int64(in: -10...(Limits.amountMinorMax / 100)) * 100 : rng.int64(in: -1_000...Limits.amountMinorMax)
    }

    public static func draft(_ rng: inout SeededRandom) -> PlanDraft {
        let rows = (0..<rng.int(in: 0...13)).map { _ in
            PlanDraft.Row(label: text(&rng), percentage: rng.chance(50) ? try! PartsPerMillion(rng.int64(in: 0...1_000_000)) : nil,
                          amountMinor: rng.chance(50) ? amount(&rng) : nil, dueDate: rng.chance(50) ? day(&rng) : nil,
                          id: rng.chance(30) ? InstallmentID(origin: dot(&rng), index: rng.int(in: 0...11)) : nil)
        }
        return PlanDraft(mode: rng.chance(50) ? .percentage : .amount, rows: rows, templateName: rng.chance(50) ? "Thirds" : nil)
    }

    public static func payload(_ rng: inout SeededRandom) -> ActionPayload {
        switch rng.int(in: 0...17) {
        case 0: return .createJob(number: text(&rng), customer: Customer(name: text(&rng), remindersOptOut: rng.chance(50)),
                           department: rng.chance(50) ? text(&rng) : nil, currency: currency(&rng), notes: text(&rng))
        case 1: return .updateJobInfo(JobInfoUpdate(number: rng.chance(50) ? text(&rng) : nil, customerName: rng.chance(50) ? text(&rng) : nil,
                                             remindersOptOut: rng.chance(50) ? rng.chance(50) : nil,
                                             department: rng.pick([JobInfoUpdate.DepartmentChange?.none, .clear, .set("Plumbing")]), notes: rng.chance(50) ? text(&rng) : nil))
        case 2: return .setInvoice(number: text(&rng), baseTotalMinor: amount(&rng), issuedOn: rng.chance(50) ? day(&rng) : nil)
        case 3: return .finalizeInvoice
        case 4: return .voidInvoice
        case 5: return .createPlan(draft(&rng))
        case 6: return .editPlan(draft(&rng))
        case 7: return .cancelPlan
        case 8: return .editInstallment(InstallmentID(origin: dot(&rng), index: rng.int(in: 0...11)), label: rng.chance(50) ? text(&rng) : nil,
                                 dueDate: rng.pick([DueDateChange.keep, .clear, .set(day(&rng))]))
        case 9: return .recordPayment(PaymentRequest(amountMinor: amount(&rng), currency: currency(&rng), method: rng.pick(PaymentMethod.allCases),
                                              reference: rng.chance(50) ? text(&rng) : nil, pending: rng.chance(50)))
        case 10: return .confirmPayment(PaymentID(dot(&rng)))
        case 11: return .failPayment(PaymentID(dot(&rng)))
        case 12: return .recordRefund(RefundRequest(paymentID: PaymentID(dot(&rng)), amountMinor: amount(&rng), currency: currency(&rng),
                                             reason: text(&rng), cancelsRemainingPlan: rng.chance(50)))
        case 13: return .proposeChangeOrder(summary: text(&rng), amountMinor: amount(&rng), currency: currency(&rng))
        case 14: return .approveChangeOrder(ChangeOrderID(dot(&rng)), reason: text(&rng))
        case 15: return .rejectChangeOrder(ChangeOrderID(dot(&rng)), reason: text(&rng))
        case 16:
            var settings = CompanySettings()
            settings.intervalName = rng.pick(["Draw", "Installment"])
            settings.optedOutUsers = rng.chance(50) ? [users[0]] : []
            return .updateSettings(settings, baseVersion: rng.int64(in: 1...50))
        default: return .resolveReviewCase(ReviewCaseID(dot(&rng), index: rng.int(in: 0...2)), rng.pick(Resolution.allCases), note: text(&rng))
        }
    }

    public static func action(_ dot: Dot, _ rng: inout SeededRandom) -> Action {
        return Action(dot: dot, hlc: HLCTimestamp(wallMillis: rng.int64(in: 0...4_000_000_000_000), logical: UInt32(rng.int(in: 0...3))),
                      actor: Actor(user: rng.pick(users), role: rng.pick(Role.allCases)), job: rng.chance(80) ? JobID(self.dot(&rng)) : nil,
                      seenSequence: UInt64(rng.int64(in: 0...2_000_000)), businessDay: day(&rng), payload: payload(&rng))
    }
}

import LedgerCore
import LedgerTestSupport
import Testing

@Suite("Counting open review cases per action")
struct OpenCaseCountTests {
    @Test("The deltas of applyCountingOpenCases add up to a recount after every action, every kind of resolution and company-wide cases included")
    func deltasMatchARecount() throws {
        for seed in [31, 32, 33] as [UInt64] {
            let traffic = try FieldWorkload(.init(seed: seed, jobs: 12, devices: 4, actions: 400, gapMillisMax: 30_000, pullEvery: 9,
                                                  vocabulary: .init(userPrefix: "t", jobPrefix: "J-", invoicePrefix: "I-", department: "HVAC",
                                                                    installmentLabels: ["Final"], refundReason: "r", changeOrders: ["Vent"])))
            var ledger = try Ledger(), count = 0
            for entry in traffic.setup + traffic.entries {
                let (outcome, delta) = ledger.applyCountingOpenCases(entry.action, sequence: entry.sequence)
                #expect(outcome == entry.outcome)
                count += delta
                #expect(count == ledger.openReviewCases.count, "seed \(seed), entry \(entry.sequence)")
            }
            #expect(count > 0, "the workload must open cases for the count to mean anything")
            // The office resolves every case, trying to apply the proposal first (which re-runs it
            // and may raise new cases), then a case already decided, then a company-wide one.
            var sequence = UInt64(traffic.setup.count + traffic.entries.count), counter: UInt64 = 1_000_000
            let office = Actor(user: try UserID("toffice"), role: .office)
            func act(_ job: JobID?, _ payload: ActionPayload) -> Outcome {
                sequence += 1
                counter += 1
                let action = Action(dot: Dot(replica: traffic.officeReplica, counter: counter), hlc: HLCTimestamp(wallMillis: 9_000_000_000_000 + Int64(counter)),
                                    actor: office, job: job, seenSequence: sequence - 1, businessDay: Fixtures.date("2026-12-01"), payload: payload)
                let (outcome, delta) = ledger.applyCountingOpenCases(action, sequence: sequence)
                count += delta
                #expect(count == ledger.openReviewCases.count, "seed \(seed), office action \(counter): \(outcome)")
                return outcome
            }
            while let open = ledger.openReviewCases.first {
                for resolution in [Resolution.applyProposed, .keepCurrent, .acknowledge] {
                    let outcome = act(open.job, .resolveReviewCase(open.id, resolution, note: "seen"))
                    if outcome.changedLedger {
                        let again = act(open.job, .resolveReviewCase(open.id, .keepCurrent, note: "again"))
                        guard case .rejected(let error) = again, error.code == .reviewCaseResolved else {
                            Issue.record("resolving a decided case again gave \(again)")
                            break
                        }
                        break
                    }
                }
            }
            #expect(count == 0)
            var settings = ledger.settings
            settings.programEnabled.toggle()
            guard case .parkedForReview(let companyCase) = act(nil, .updateSettings(settings, baseVersion: ledger.settings.version + 7)) else {
                Issue.record("a stale settings edit should raise a company-wide case")
                continue
            }
            #expect(count == 1)
            #expect(act(nil, .resolveReviewCase(companyCase, .applyProposed, note: "ok")) == .applied)
            #expect(count == 0)
        }
    }

    @Test("A parked plan edit applied by the office's resolution: one case opened, then closed, by the counted deltas")
    func applyingAProposal() throws {
        var ledger = try Ledger(), sequence: UInt64 = 0, count = 0
        let job = JobID(Fixtures.dot(1))
        func act(_ counter: UInt64, _ actor: Actor, on replica: ReplicaID, seen: UInt64, _ payload: ActionPayload) -> Outcome {
            sequence += 1
            let action = Action(dot: Fixtures.dot(counter, on: replica), hlc: HLCTimestamp(wallMillis: 1_000 * Int64(sequence)), actor: actor,
                                job: payload.kind == .createJob ? nil : job, seenSequence: seen, businessDay: Fixtures.date("2026-06-01"), payload: payload)
            let (outcome, delta) = ledger.applyCountingOpenCases(action, sequence: sequence)
            count += delta
            #expect(count == ledger.openReviewCases.count, "after \(action.payload.kind): \(outcome)")
            return outcome
        }
        let office = Fixtures.office, tech = Fixtures.technician, officeDevice = Fixtures.officeDevice, techDevice = Fixtures.technicianDevice
        #expect(act(1, office, on: officeDevice, seen: 0, .createJob(number: "J-1", customer: Customer(name: "C"), department: nil, currency: .usd, notes: "")) == .applied)
        #expect(act(2, office, on: officeDevice, seen: 1, .setInvoice(number: "I-1", baseTotalMinor: 300_000, issuedOn: nil)) == .applied)
        #expect(act(3, office, on: officeDevice, seen: 2, .createPlan(PlanDraft(template: .fiftyFifty))) == .applied)
        // Both edit the plan having seen it; the technician's arrives first.
        #expect(act(1, tech, on: techDevice, seen: 3, .editPlan(PlanDraft(template: .sixtyForty))) == .applied)
        guard case .parkedForReview(let parked) = act(4, office, on: officeDevice, seen: 3, .editPlan(PlanDraft(template: .fiftyFifty))) else {
            Issue.record("the second concurrent plan edit should be parked")
            return
        }
        #expect(count == 1)
        #expect(act(5, office, on: officeDevice, seen: 5, .resolveReviewCase(parked, .applyProposed, note: "customer confirmed")) == .applied)
        #expect(count == 0)
        #expect(try ledger.job(job).plan?.rows.map(\.amountMinor) == [150_000, 150_000])
    }
}

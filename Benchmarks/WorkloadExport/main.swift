// Writes issue C's seeded workload (`FieldWorkload`) as JSON, so the peers of issue H get the
// same logical changes our benchmarks push: the office's jobs, then every device action in
// each device's order. Release mode; the suite (`Benchmarks/compare`) runs it.
//
//     swift run -c release bench-workload --seed 7 --actions 1000000 --out workload.json
//
// Format (Benchmarks/Peers/README.md): {"seed", "devices", "jobs": [{"number", "customer",
// "invoice", "plan": [[label, parts per million], …]}], "actions": [[device, job, kind, …], …]}
// with kinds "pay" [amount, method, pending, reference], "plan" [rows], "row" [label] (relabel
// the plan's last row), "refund" [payment device, payment counter, amount], "co" [summary,
// amount]. A payment's id is its device and that device's counter (1 for its first action).
import Foundation
import LedgerCore
import LedgerTestSupport

func option(_ name: String) -> String? {
    CommandLine.arguments.firstIndex(of: name).flatMap { $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil }
}
guard let out = option("--out") else {
    print("usage: bench-workload [--seed 7] [--actions 1000000] [--devices 50] [--jobs 10000] --out FILE")
    exit(2)
}
let seed = option("--seed").flatMap(UInt64.init) ?? 7
let actions = option("--actions").flatMap(Int.init) ?? 1_000_000
let devices = option("--devices").flatMap(Int.init) ?? 50
let jobCount = option("--jobs").flatMap(Int.init) ?? 10_000
// The same parameters and words as server-bench and client-bench, so a seed names one workload.
let traffic = try FieldWorkload(.init(seed: seed, jobs: jobCount, devices: devices, actions: actions, gapMillisMax: 30_000, pullEvery: 20,
                                      vocabulary: .init(userPrefix: "tech-", jobPrefix: "J-", invoicePrefix: "HV-", department: "HVAC",
                                                        installmentLabels: ["Final Payment"], refundReason: "goodwill", changeOrders: ["Extra vent"])))

func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
func rows(_ draft: PlanDraft) -> String {
    "[" + draft.rows.map { "[\(quoted($0.label)),\($0.percentage?.value ?? 0)]" }.joined(separator: ",") + "]"
}

var jobIndex: [JobID: Int] = [:]
var jobs: [(number: String, customer: String, invoice: Int64, plan: String)] = []
for entry in traffic.setup {
    switch entry.action.payload {
    case .createJob(let number, let customer, _, _, _):
        jobIndex[JobID(entry.action.dot)] = jobs.count
        jobs.append((number, customer.name, 0, "[]"))
    case .setInvoice(_, let total, _):
        jobs[jobIndex[entry.action.job!]!].invoice = total
    case .createPlan(let draft):
        jobs[jobIndex[entry.action.job!]!].plan = rows(draft)
    default:
        fatalError("bench-workload: unexpected setup action \(entry.action.payload.kind)")
    }
}
let deviceIndex = Dictionary(uniqueKeysWithValues: traffic.devices.enumerated().map { ($1, $0) })

var text = "{\"seed\":\(seed),\"devices\":\(devices),\"jobs\":["
text += jobs.map { "{\"number\":\(quoted($0.number)),\"customer\":\(quoted($0.customer)),\"invoice\":\($0.invoice),\"plan\":\($0.plan)}" }.joined(separator: ",")
text += "],\"actions\":["
var first = true
// Device by device would lose the interleaving; the log's order is how the workload made them.
for entry in traffic.entries {
    let action = entry.action
    let head = "[\(deviceIndex[action.dot.replica]!),\(jobIndex[action.job!]!),"
    let body: String
    switch action.payload {
    case .recordPayment(let request):
        body = "\"pay\",\(request.amountMinor),\(quoted(request.method.rawValue)),\(request.pending ? 1 : 0),\(request.reference.map(quoted) ?? "null")"
    case .editPlan(let draft):
        body = "\"plan\",\(rows(draft))"
    case .editInstallment(_, let label, _):
        body = "\"row\",\(quoted(label ?? ""))"
    case .recordRefund(let request):
        body = "\"refund\",\(deviceIndex[request.paymentID.dot.replica]!),\(request.paymentID.dot.counter),\(request.amountMinor)"
    case .proposeChangeOrder(let summary, let amount, _):
        body = "\"co\",\(quoted(summary)),\(amount)"
    default:
        fatalError("bench-workload: unexpected device action \(action.payload.kind)")
    }
    text += (first ? "" : ",") + head + body + "]"
    first = false
}
text += "]}\n"
try Data(text.utf8).write(to: URL(fileURLWithPath: out))
print("bench-workload: seed \(seed), \(jobs.count) jobs, \(traffic.entries.count) device actions from \(devices) devices → \(out)")

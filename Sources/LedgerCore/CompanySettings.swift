/// A company's progress-billing settings, edited by office roles and versioned.
public struct CompanySettings: Hashable, Sendable, Codable {
    /// Increases by one with every accepted update.
    public var version: Int64
    /// When off, no new plans may be made; plans already saved keep working.
    public var programEnabled: Bool
    /// When off, technicians may neither create nor edit plans.
    public var allowTechnicianOverride: Bool
    /// The template offered first; a built-in or a custom template's name.
    public var defaultTemplateName: String
    /// The company's own templates, next to the built-in ones.
    public var customTemplates: [PlanTemplate]
    /// Days between installments when a due date is left blank.
    public var intervalDays: Int
    /// What the company calls a plan, in every label, header and CSV ("Payment Schedule").
    public var programName: String
    /// What the company calls one installment ("Installment", "Draw").
    public var intervalName: String
    /// Departments whose technicians may not use plans (the per-department toggle), sorted.
    public var departmentsWithoutProgram: [String]
    /// Users who opted out of plans, sorted.
    public var optedOutUsers: [UserID]
    /// The IANA time zone in which "today" and every business date is judged.
    public var businessTimeZone: String

    /// The defaults a new company starts with.
    public init(
        version: Int64 = 1,
        programEnabled: Bool = true,
        allowTechnicianOverride: Bool = true,
        defaultTemplateName: String = PlanTemplate.fiftyFifty.name,
        customTemplates: [PlanTemplate] = [],
        intervalDays: Int = 30,
        programName: String = "Payment Schedule",
        intervalName: String = "Installment",
        departmentsWithoutProgram: [String] = [],
        optedOutUsers: [UserID] = [],
        businessTimeZone: String = "UTC"
    ) {
        self.version = version
        self.programEnabled = programEnabled
        self.allowTechnicianOverride = allowTechnicianOverride
        self.defaultTemplateName = defaultTemplateName
        self.customTemplates = customTemplates
        self.intervalDays = intervalDays
        self.programName = programName
        self.intervalName = intervalName
        self.departmentsWithoutProgram = departmentsWithoutProgram
        self.optedOutUsers = optedOutUsers
        self.businessTimeZone = businessTimeZone
    }

    /// Every template a plan may start from: the built-ins, then the custom ones.
    public var templates: [PlanTemplate] { PlanTemplate.builtIns + customTemplates }

    /// The template with this name; throws `templateUnknown`.
    public func template(named name: String) throws(LedgerError) -> PlanTemplate {
        guard let template = templates.first(where: { $0.name == name }) else {
            throw LedgerError(.templateUnknown, "There is no template with that name; list the templates and pick one of them.")
        }
        return template
    }

    /// The plural of the interval name, lowercased, for sentences ("installments", "draws").
    public var intervalNamePluralLowercased: String {
        let lower = intervalName.lowercased()
        return lower.hasSuffix("s") ? lower + "es" : lower + "s"
    }

    /// These settings checked and normalized (trimmed names, sorted and de-duplicated lists).
    ///
    /// Throws `settingsInvalid` (or a more specific code) saying which field to fix.
    public func validated() throws(LedgerError) -> CompanySettings {
        var result = self
        result.programName = try Validate.label(programName, what: "program name")
        result.intervalName = try Validate.label(intervalName, what: "interval name")
        guard Limits.intervalDaysRange.contains(intervalDays) else {
            throw LedgerError(.settingsInvalid, "The installment interval must be \(Limits.intervalDaysRange.lowerBound) to \(Limits.intervalDaysRange.upperBound) days.")
        }
        guard customTemplates.count <= Limits.customTemplatesMax else {
            throw LedgerError(.limitExceeded, "A company may have at most \(Limits.customTemplatesMax) custom templates; remove some first.")
        }
        var names: [String] = PlanTemplate.builtIns.map(\.name)
        for template in customTemplates {
            // Re-running the initializer re-checks templates that arrived by decoding.
            _ = try PlanTemplate(name: template.name, description: template.description, stages: template.stages)
            guard !names.contains(template.name) else {
                throw LedgerError(.templateInvalid, "Two templates share a name (or one uses a built-in name); rename one of them.")
            }
            names.append(template.name)
        }
        guard names.contains(defaultTemplateName) else {
            throw LedgerError(.templateUnknown, "The default template must be one of the company's templates; pick an existing one.")
        }
        var departments: [String] = []
        for department in departmentsWithoutProgram {
            departments.append(try Validate.label(department, what: "department name"))
        }
        result.departmentsWithoutProgram = Array(Set(departments)).sorted()
        result.optedOutUsers = Array(Set(optedOutUsers)).sorted()
        guard result.departmentsWithoutProgram.count <= Limits.settingsListMax,
              result.optedOutUsers.count <= Limits.settingsListMax else {
            throw LedgerError(.limitExceeded, "Settings may list at most \(Limits.settingsListMax) departments and \(Limits.settingsListMax) opted-out users.")
        }
        let zone = businessTimeZone.trimmingASCIIWhitespace()
        guard !zone.isEmpty, zone.utf8.count <= Limits.timeZoneIdentifierLengthMax, !zone.contains(" ") else {
            throw LedgerError(.settingsInvalid, "The business time zone must be an IANA name such as America/Chicago.")
        }
        result.businessTimeZone = String(zone)
        return result
    }

    /// Throws unless `actor` may create (or, for `editing`, change) a plan on a job of `department`.
    ///
    /// Turning the program off stops new plans for everyone; office roles may still edit plans in
    /// flight. Technicians need the program on, their department in it, not to have opted out,
    /// and "allow technician override" on.
    public func checkPlanAuthority(actor: Actor, department: String?, creating: Bool) throws(LedgerError) {
        if creating || actor.role == .technician {
            guard programEnabled else {
                throw LedgerError(.programDisabled, "The \(programName) program is turned off, so new plans cannot be made; an office user can turn it on in settings.")
            }
        }
        guard actor.role == .technician else { return }
        guard allowTechnicianOverride else {
            throw LedgerError(.technicianOverrideOff, "Technicians may not set or change a \(programName) while \"allow technician override\" is off; ask the office to make the change.")
        }
        if let department, departmentsWithoutProgram.contains(department) {
            throw LedgerError(.departmentWithoutProgram, "This job's department does not use the \(programName) program; ask the office.")
        }
        guard !optedOutUsers.contains(actor.user) else {
            throw LedgerError(.userOptedOut, "You have opted out of the \(programName) program; ask the office to make the change.")
        }
    }
}

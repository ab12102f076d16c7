import FieldConsult
import FieldConsultFFI
import Foundation

/// A store in a fresh temporary folder with a team, a community and the default checklist;
/// mirrors the Kotlin tests' Fixture.
final class Fixture {
    let dir: URL
    let file: URL
    let key = Data(repeating: 7, count: 32)
    let store: ConsultationStore
    let team = Team(id: newId(), name: "Engagement Team 4", sector: "Sector West")
    let community = Community(id: newId(), name: "Yei", adminArea: "Central Equatoria", location: nil)
    let reviewer = Identity(id: "focal-point-west", role: .reviewer(sector: "Sector West"))
    var member: Identity { Identity(id: "member-1", role: .teamMember(teamId: team.id)) }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        file = dir.appendingPathComponent("fieldconsult.db")
        store = try ConsultationStore.open(at: file, key: key)
        try store.raw.upsertTeams(teams: [team])
        try store.raw.upsertCommunities(communities: [community])
        try store.raw.publishChecklist(checklist: defaultChecklist())
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(at: dir)
    }

    func visit() throws -> Visit {
        try store.raw.saveVisit(actor: member, visit: Visit(
            id: newId(), teamId: team.id, communityId: community.id,
            startedAt: hoursAgo(3), endedAt: nil, notes: ""))
    }

    /// A session of `group` in `visit` complete enough to submit.
    func completeSession(_ visit: Visit, _ group: Group, _ priorities: [PriorityCategory] = []) throws -> Session {
        var s = try newSessionDraft(visitId: visit.id, group: group, startedAt: hoursAgo(2))
        let counts = AgeCounts(age1217: 1, age1829: 5, age3059: 4, age60Plus: 2, unknown: 0)
        switch group {
        case .women: s.participants.female = counts
        case .men: s.participants.male = counts
        case .mixed:
            s.participants.female = counts
            s.participants.male = counts
        }
        s.consent.verbalInformed = true
        s.endedAt = hoursAgo(1)
        s.answers = defaultChecklist().topics.filter(\.required).map {
            ChecklistAnswer(topic: $0.code, response: .discussed, note: "")
        }
        s.priorities = priorities.enumerated().map { i, category in
            Priority(rank: UInt8(i + 1), category: category, otherLabel: "", note: "")
        }
        s.concerns = [Concern(
            category: .movementRestriction, affected: [group == .men ? .men : .women],
            location: "road to the market", timing: "at night", urgency: .routine, note: "")]
        return s
    }
}

func hoursAgo(_ h: Double) -> String {
    CoreTime.string(Date().addingTimeInterval(-h * 3600), in: TimeZone(secondsFromGMT: 3 * 3600)!)
}

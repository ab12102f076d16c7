import FieldConsult
import FieldConsultFFI
import XCTest

/// Mirrors android/src/test/kotlin/org/fieldconsult/WorkflowTest.kt.
final class WorkflowTests: XCTestCase {
    func testVisitWithSeparateWomensAndMensSessionsIsRecordedAndSubmitted() throws {
        let f = try Fixture()
        let visit = try f.visit()
        for group in [Group.women, .men] {
            let s = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(visit, group, [.water]))
            XCTAssertEqual(try f.store.raw.submitSession(actor: f.member, sessionId: s.id).status, .submitted)
        }
        let listed = try f.store.allSessions(filter: SessionFilter(visitId: visit.id))
        XCTAssertEqual(Set(listed.map(\.group)), [.women, .men])
    }

    func testValidationErrorsNameEveryFieldAtOnce() throws {
        let f = try Fixture()
        var s = try f.completeSession(f.visit(), .women, [.water, .health])
        s.participants.male = AgeCounts(age1217: 0, age1829: 3, age3059: 0, age60Plus: 0, unknown: 0)
        s.priorities[1].rank = 1
        s.sensitiveNote = "bell\u{7}"
        XCTAssertThrowsError(try f.store.raw.saveSession(actor: f.member, session: s)) { error in
            guard let e = error as? FieldConsultError else { return XCTFail("got \(error)") }
            XCTAssertEqual(e.fields, ["participants.male.age_18_29", "priorities[1].rank", "sensitive_note"])
        }
    }

    func testFocalPointReturnsThenAcceptsAResubmittedSession() throws {
        let f = try Fixture()
        let s = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(f.visit(), .women))
        _ = try f.store.raw.submitSession(actor: f.member, sessionId: s.id)
        _ = try f.store.raw.recordReview(actor: f.reviewer, sessionId: s.id, decision: .returned, comment: "Ages?")
        var returned = try f.store.raw.getSession(sessionId: s.id).session
        XCTAssertEqual(returned.status, .returned)
        returned.sensitiveNote = "ages checked"
        _ = try f.store.raw.saveSession(actor: f.member, session: returned)
        _ = try f.store.raw.submitSession(actor: f.member, sessionId: s.id)
        _ = try f.store.raw.recordReview(actor: f.reviewer, sessionId: s.id, decision: .accepted, comment: "")
        let accepted = try f.store.raw.getSession(sessionId: s.id)
        XCTAssertEqual(accepted.session.status, .accepted)
        XCTAssertEqual(accepted.reviews.map(\.decision), [.returned, .accepted])
        XCTAssertThrowsError(try f.store.raw.saveSession(actor: f.member, session: accepted.session)) { error in
            guard case FieldConsultError.InvalidTransition(let from, let action) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(from, .accepted)
            XCTAssertEqual(action, .edit)
        }
    }

    func testPagesWalkEverySessionOnceNewestFirst() throws {
        let f = try Fixture()
        let visit = try f.visit()
        var ids: [String] = []
        for i in 0..<23 {
            var s = try f.completeSession(visit, .mixed)
            s.startedAt = hoursAgo(100 + Double(i))
            s.endedAt = nil
            ids.append(try f.store.raw.saveSession(actor: f.member, session: s).id)
        }
        XCTAssertEqual(try f.store.allSessions(pageSize: 10).map(\.id), ids)
        XCTAssertThrowsError(try f.store.raw.listSessions(filter: SessionFilter(), limit: 10, after: "garbage")) { error in
            guard case FieldConsultError.InvalidCursor = error else { return XCTFail("got \(error)") }
        }
    }
}

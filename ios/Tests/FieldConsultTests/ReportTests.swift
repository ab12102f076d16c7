import FieldConsult
import FieldConsultFFI
import XCTest

/// Mirrors android/src/test/kotlin/org/fieldconsult/ReportTest.kt and ConcurrencyTest.kt.
final class ReportTests: XCTestCase {
    func testMonthlyReportCountsTheAcceptedSessionsOfTheMonth() async throws {
        let f = try Fixture()
        let visit = try f.visit()
        let accepted = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(visit, .women, [.water]))
        _ = try f.store.raw.submitSession(actor: f.member, sessionId: accepted.id)
        _ = try f.store.raw.recordReview(actor: f.reviewer, sessionId: accepted.id, decision: .accepted, comment: "")
        let pending = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(visit, .men, [.food]))
        _ = try f.store.raw.submitSession(actor: f.member, sessionId: pending.id)
        let month = String(accepted.startedAt.prefix(7))
        let scope = ReportScope.team(teamId: f.team.id)

        let json = try await f.store.monthlyReport(scope, month: month, format: .json, language: .en, minCell: 0)
        let text = String(decoding: json[0].content, as: UTF8.self)
        XCTAssertTrue(text.contains("\"scope_name\": \"Engagement Team 4\""))
        XCTAssertTrue(text.contains(accepted.id))
        XCTAssertFalse(text.contains(pending.id))

        let html = try await f.store.monthlyReport(scope, month: month, format: .html, language: .fr)
        XCTAssertEqual(html[0].mediaType, "text/html; charset=utf-8")
        XCTAssertTrue(String(decoding: html[0].content, as: UTF8.self).contains("Rapport mensuel sur le genre"))
    }

    func testAMalformedMonthIsAValidationErrorNamingTheField() async throws {
        let f = try Fixture()
        do {
            _ = try await f.store.monthlyReport(.mission, month: "October", format: .json, language: .en)
            XCTFail("expected a validation error")
        } catch FieldConsultError.Validation(let problems) {
            XCTAssertEqual(problems.map(\.field), ["month"])
        }
    }

    func testPairedComparisonShowsWhatOnlyWomenAndOnlyMenRaised() async throws {
        let f = try Fixture()
        let visit = try f.visit()
        _ = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(visit, .women, [.water, .safeMovement]))
        _ = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(visit, .men, [.securityAndProtection, .water]))
        let c = try await f.store.pairedComparison(SessionFilter(visitId: visit.id))
        XCTAssertEqual(c.onlyWomen, [.category(category: .safeMovement)])
        XCTAssertEqual(c.onlyMen, [.category(category: .securityAndProtection)])
    }

    func testASwiftListenerIsCalledBackFromRust() async throws {
        let f = try Fixture()
        let visit = try f.visit()
        for _ in 0..<3 {
            _ = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(visit, .women))
        }
        let calls = Calls()
        _ = try await f.store.participationTable(SessionFilter(), by: .overall) { done, total in
            calls.append(done, total)
        }
        XCTAssertEqual(calls.all.map(\.0), [3])
    }

    func testACancelledReportThrowsCancelled() throws {
        let f = try Fixture()
        _ = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(f.visit(), .men))
        let token = CancellationToken()
        token.cancel()
        XCTAssertThrowsError(try f.store.raw.participationTable(filter: SessionFilter(), by: .overall, listener: nil, cancel: token)) { error in
            guard case FieldConsultError.Cancelled = error else { return XCTFail("got \(error)") }
        }
    }

    func testCallsFromManyThreadsAtOnceLoseNothing() throws {
        let f = try Fixture()
        let visit = try f.visit()
        let session = try f.completeSession(visit, .women)
        DispatchQueue.concurrentPerform(iterations: 40) { _ in
            var s = session
            s.id = newId()
            XCTAssertNoThrow(try f.store.raw.saveSession(actor: f.member, session: s))
            XCTAssertNoThrow(try f.store.raw.badgeCounts())
        }
        XCTAssertEqual(try f.store.allSessions().count, 40)
    }
}

/// Progress calls, recorded from whatever thread the core calls back on.
final class Calls: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [(UInt64, UInt64)] = []

    func append(_ done: UInt64, _ total: UInt64) {
        lock.lock()
        calls.append((done, total))
        lock.unlock()
    }

    var all: [(UInt64, UInt64)] {
        lock.lock()
        defer { lock.unlock() }
        return calls
    }
}

import FieldConsult
import FieldConsultFFI
import XCTest

/// A transport written in Swift, as an app would supply one (URLSession with pinning).
final class ScriptedTransport: HttpTransport, @unchecked Sendable {
    private let answer: (HttpRequest) throws -> HttpResponse
    private let lock = NSLock()
    private(set) var requests: [HttpRequest] = []

    init(_ answer: @escaping (HttpRequest) throws -> HttpResponse) {
        self.answer = answer
    }

    func send(request: HttpRequest) throws -> HttpResponse {
        lock.lock()
        requests.append(request)
        lock.unlock()
        return try answer(request)
    }
}

private func json(_ status: UInt16, _ body: String) -> HttpResponse {
    HttpResponse(status: status, headers: [HttpHeader(name: "content-type", value: "application/json")], body: Data(body.utf8))
}

/// Mirrors android/src/test/kotlin/org/fieldconsult/SyncTest.kt.
final class SyncTests: XCTestCase {
    func testASwiftTransportCarriesEnrolmentAndAnIdleSync() throws {
        let f = try Fixture()
        let teamId = f.team.id
        let transport = ScriptedTransport { request in
            if request.path == "/v1/enrol" {
                return json(200, #"{"device_id":"device-7","token":"secret-token","role":{"kind":"team_member","team_id":"\#(teamId)"}}"#)
            }
            if request.path.hasPrefix("/v1/pull") {
                return json(200, #"{"records":[],"cursor":0,"more":false}"#)
            }
            return json(404, #"{"type":"about:blank","title":"not found","status":404}"#)
        }
        let enrolment = try f.store.raw.enrolWith(transport: transport, code: "ABCD-EFGH", deviceLabel: "tablet 1")
        XCTAssertEqual(enrolment.deviceId, "device-7")
        XCTAssertEqual(enrolment.role, .teamMember(teamId: teamId))
        let report = try f.store.raw.syncWith(transport: transport, listener: nil, cancel: nil)
        XCTAssertEqual(report.requests, 1)
        XCTAssertTrue(transport.requests.last!.headers.contains(HttpHeader(name: "authorization", value: "Bearer secret-token")))
    }

    func testRecordsStayPendingWhenTheNetworkFails() throws {
        let f = try Fixture()
        let teamId = f.team.id
        let s = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(f.visit(), .women))
        let failing = ScriptedTransport { request in
            if request.path == "/v1/enrol" {
                return json(200, #"{"device_id":"d","token":"t","role":{"kind":"team_member","team_id":"\#(teamId)"}}"#)
            }
            throw TransportFailure.Network(reason: "connection reset")
        }
        _ = try f.store.raw.enrolWith(transport: failing, code: "CODE", deviceLabel: "tablet")
        XCTAssertThrowsError(try f.store.raw.syncWith(transport: failing, listener: nil, cancel: nil)) { error in
            guard case FieldConsultError.Network = error else { return XCTFail("got \(error)") }
        }
        XCTAssertEqual(try f.store.raw.getSession(sessionId: s.id).syncState, .pending)
    }

    func testEnrolmentRefusesAServerWithoutTheRootKeyOfTheQrCode() throws {
        let f = try Fixture()
        let teamId = f.team.id
        let transport = ScriptedTransport { _ in
            json(200, #"{"device_id":"d","token":"t","role":{"kind":"team_member","team_id":"\#(teamId)"}}"#)
        }
        XCTAssertThrowsError(try f.store.raw.enrolWith(transport: transport, code: "CODE", deviceLabel: "tablet", expectedRootFingerprint: String(repeating: "0", count: 64))) { error in
            guard case FieldConsultError.RootKeyMismatch = error else { return XCTFail("got \(error)") }
        }
        XCTAssertNil(try f.store.raw.enrolment())
    }

    func testSyncBeforeEnrolmentIsNotEnrolled() throws {
        let f = try Fixture()
        XCTAssertThrowsError(try f.store.raw.sync(listener: nil, cancel: nil)) { error in
            guard case FieldConsultError.NotEnrolled = error else { return XCTFail("got \(error)") }
        }
    }

    func testASinglePinWithoutBackupIsInvalidTlsOptionsBeforeConnecting() throws {
        let f = try Fixture()
        // Nothing listens on port 9: only the options can be at fault.
        let tls = TlsOptions(pins: ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], trustRoots: [])
        XCTAssertThrowsError(
            try f.store.raw.enrol(serverUrl: "https://127.0.0.1:9", code: "CODE", deviceLabel: "tablet", tls: tls)
        ) { error in
            guard case FieldConsultError.InvalidTlsOptions = error else { return XCTFail("got \(error)") }
        }
        XCTAssertNil(try f.store.raw.enrolment())
    }
}

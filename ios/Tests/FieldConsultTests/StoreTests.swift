import FieldConsult
import FieldConsultFFI
import XCTest

/// Mirrors android/src/test/kotlin/org/fieldconsult/StoreTest.kt.
final class StoreTests: XCTestCase {
    func testLibraryLoadsAndReportsItsVersion() {
        XCTAssertEqual(coreVersion(), "0.1.0")
    }

    func testALostKeyIsKeyUnavailableAndNeverANewEmptyStore() throws {
        let f = try Fixture()
        _ = try f.visit()
        f.store.close()
        let before = try Data(contentsOf: f.file)
        XCTAssertThrowsError(try ConsultationStore.open(at: f.file, key: nil)) { error in
            guard case FieldConsultError.KeyUnavailable(let storeExists) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(storeExists)
        }
        XCTAssertEqual(try Data(contentsOf: f.file), before)
    }

    func testAnEmailInAVisitNoteMustBeConfirmedBeforeTheVisitIsSaved() throws {
        let f = try Fixture()
        var noted = try f.visit()
        noted.notes = "the chief: amina@example.org"
        let expected = [FieldWarning(field: "notes", kind: .email)]
        XCTAssertEqual(try visitWarnings(visit: noted), expected)
        XCTAssertThrowsError(try f.store.raw.saveVisit(actor: f.member, visit: noted)) { error in
            guard case FieldConsultError.UnconfirmedWarnings(let warnings) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(warnings, expected)
        }
        let saved = try f.store.raw.saveVisitConfirming(actor: f.member, visit: noted, confirmed: expected)
        XCTAssertEqual(saved.notes, noted.notes)
    }

    func testPanicWipeLeavesNoFileBehind() throws {
        let f = try Fixture()
        _ = try f.visit()
        try f.store.panicWipe()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.dir.path), [])
    }

    func testAnIntactStorePassesItsIntegrityCheck() throws {
        let f = try Fixture()
        _ = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(f.visit(), .women))
        XCTAssertEqual(try f.store.raw.integrityCheck(), [])
    }

    func testTheSealingKeyIsCreatedOnceAndANoteWithoutSectorKeysStaysADraft() throws {
        let f = try Fixture()
        let key = try f.store.raw.sealingPublicKey()
        XCTAssertEqual(key.count, 64)
        XCTAssertEqual(key, try f.store.raw.sealingPublicKey())
        var draft = try f.completeSession(f.visit(), .women)
        draft.sensitiveNote = "stays on this device"
        let s = try f.store.raw.saveSession(actor: f.member, session: draft)
        XCTAssertThrowsError(try f.store.raw.submitSession(actor: f.member, sessionId: s.id)) { error in
            guard case FieldConsultError.NoSealingKeys = error else { return XCTFail("got \(error)") }
        }
        XCTAssertThrowsError(try f.store.raw.openSensitiveNote(actor: f.member, sessionId: s.id)) { error in
            guard case FieldConsultError.NothingSealed(let field) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(field, "sensitive_note")
        }
    }

    func testAReferralKeepsItsServiceOnTheDeviceAndWithoutSectorKeysStaysADraft() throws {
        let f = try Fixture()
        let clinic = ReferralService(id: newId(), name: "Clinic", kind: .health, area: "Yei")
        try f.store.raw.upsertReferralServices(services: [clinic])
        let referral = Referral(serviceId: clinic.id, serviceSealed: false)
        var draft = try f.completeSession(f.visit(), .women)
        draft.referral = referral
        let s = try f.store.raw.saveSession(actor: f.member, session: draft)
        XCTAssertEqual(s.referral, referral)
        // Which service can say what was disclosed: it is sealed at submission, so a referral
        // alone needs the sector's keys, and fails closed without them.
        XCTAssertThrowsError(try f.store.raw.submitSession(actor: f.member, sessionId: s.id)) { error in
            guard case FieldConsultError.NoSealingKeys = error else { return XCTFail("got \(error)") }
        }
        XCTAssertEqual(try f.store.raw.getSession(sessionId: s.id).session.referral, referral)
        XCTAssertThrowsError(try f.store.raw.openReferralService(actor: f.member, sessionId: s.id)) { error in
            guard case FieldConsultError.NothingSealed(let field) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(field, "referral.service_id")
        }
    }

    func testOpenedStoreWritesAnEncryptedFile() throws {
        let f = try Fixture()
        _ = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(f.visit(), .women))
        f.store.close()
        let header = try Data(contentsOf: f.file).prefix(16)
        XCTAssertNotEqual(header, Data("SQLite format 3\0".utf8))
    }

    func testWrongKeyIsCaughtAsItsOwnCaseAndTheFileStaysUsable() throws {
        let f = try Fixture()
        let s = try f.store.raw.saveSession(actor: f.member, session: f.completeSession(f.visit(), .men, [.water]))
        f.store.close()
        let before = try Data(contentsOf: f.file)
        XCTAssertThrowsError(try ConsultationStore.open(at: f.file, key: Data(repeating: 8, count: 32))) { error in
            guard case FieldConsultError.WrongKey = error else { return XCTFail("got \(error)") }
        }
        XCTAssertEqual(before, try Data(contentsOf: f.file))
        let again = try ConsultationStore.open(at: f.file, key: f.key)
        XCTAssertEqual(s, try again.raw.getSession(sessionId: s.id).session)
        again.close()
    }

    func testKeyOfTheWrongLengthIsRefused() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        XCTAssertThrowsError(try ConsultationStore.open(at: url, key: Data(count: 16))) { error in
            guard case FieldConsultError.InvalidKey(let length) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(length, 16)
        }
    }

    func testWipeLeavesNoFileBehind() throws {
        let f = try Fixture()
        _ = try f.visit()
        try f.store.wipe()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.dir.path), [])
    }

    func testTextInEveryScriptRoundTrips() throws {
        let f = try Fixture()
        let visit = try f.visit()
        for text in [
            "المياه بعيدة والطريق غير آمن\u{200F} ليلاً",
            "ውሃ ሩቅ ነው፣ መንገዱ ደህንነቱ የተጠበቀ አይደለም",
            "ရေသည် ဝေးကွာပြီး လမ်းသည် မလုံခြုံပါ",
            "L'école est à deux heures de marche",
            "👩🏽‍⚕️ clinique mobile 🚰",
        ] {
            var s = try f.completeSession(visit, .women)
            s.sensitiveNote = text
            let saved = try f.store.raw.saveSession(actor: f.member, session: s)
            XCTAssertEqual(saved.sensitiveNote, text)
            XCTAssertEqual(try f.store.raw.getSession(sessionId: s.id).session.sensitiveNote, text)
        }
    }
}

package org.fieldconsult

import java.io.File
import kotlin.test.Test
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import org.fieldconsult.ffi.FieldConsultException
import org.fieldconsult.ffi.Group
import org.fieldconsult.ffi.PriorityCategory
import org.fieldconsult.ffi.Referral
import org.fieldconsult.ffi.ReferralService
import org.fieldconsult.ffi.ReferralServiceKind
import org.fieldconsult.ffi.coreVersion
import org.fieldconsult.ffi.newId

class StoreTest {
    @Test
    fun anIntactStorePassesItsIntegrityCheck(): Unit = Fixture().use { f ->
        f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.WOMEN))
        assertEquals(emptyList<String>(), f.store.raw.integrityCheck())
    }

    @Test
    fun theSealingKeyIsCreatedOnceAndANoteWithoutSectorKeysStaysADraft(): Unit = Fixture().use { f ->
        val key = f.store.raw.sealingPublicKey()
        assertEquals(64, key.length)
        assertEquals(key, f.store.raw.sealingPublicKey())
        val draft = f.completeSession(f.visit(), Group.WOMEN).copy(sensitiveNote = "stays on this device")
        val s = f.store.raw.saveSession(f.member, draft)
        assertFailsWith<FieldConsultException.NoSealingKeys> { f.store.raw.submitSession(f.member, s.id) }
        assertEquals("stays on this device", f.store.raw.getSession(s.id).session.sensitiveNote)
        val e = assertFailsWith<FieldConsultException.NothingSealed> { f.store.raw.openSensitiveNote(f.member, s.id) }
        assertEquals("sensitive_note", e.field)
    }

    @Test
    fun aReferralKeepsItsServiceOnTheDeviceAndWithoutSectorKeysStaysADraft(): Unit = Fixture().use { f ->
        val clinic = ReferralService(id = newId(), name = "Clinic", kind = ReferralServiceKind.HEALTH, area = "Yei")
        f.store.raw.upsertReferralServices(listOf(clinic))
        val referral = Referral(serviceId = clinic.id, serviceSealed = false)
        val draft = f.completeSession(f.visit(), Group.WOMEN).copy(referral = referral)
        val s = f.store.raw.saveSession(f.member, draft)
        assertEquals(referral, s.referral)
        // Which service can say what was disclosed: it is sealed at submission, so a referral
        // alone needs the sector's keys, and fails closed without them.
        assertFailsWith<FieldConsultException.NoSealingKeys> { f.store.raw.submitSession(f.member, s.id) }
        assertEquals(referral, f.store.raw.getSession(s.id).session.referral)
        val e = assertFailsWith<FieldConsultException.NothingSealed> { f.store.raw.openReferralService(f.member, s.id) }
        assertEquals("referral.service_id", e.field)
    }

    @Test
    fun libraryLoadsAndReportsItsVersion() {
        assertEquals("0.1.0", coreVersion())
    }

    @Test
    fun openedStoreWritesAnEncryptedFile(): Unit = Fixture().use { f ->
        f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.WOMEN))
        f.store.close()
        val header = f.file.readBytes().copyOfRange(0, 16)
        assertFalse(header.contentEquals("SQLite format 3\u0000".toByteArray()), "file must be encrypted")
    }

    @Test
    fun wrongKeyIsCaughtAsItsOwnCaseAndTheFileStaysUsable(): Unit = Fixture().use { f ->
        val s = f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.MEN, PriorityCategory.WATER))
        f.store.close()
        val before = f.file.readBytes()
        val caught = try {
            ConsultationStore.open(f.file, ByteArray(32) { 8 })
            "opened"
        } catch (e: FieldConsultException) {
            when (e) {
                is FieldConsultException.WrongKey -> "wrong key"
                else -> "other: $e"
            }
        }
        assertEquals("wrong key", caught)
        assertContentEquals(before, f.file.readBytes())
        ConsultationStore.open(f.file, f.key).use { again ->
            assertEquals(s, again.raw.getSession(s.id).session)
        }
    }

    @Test
    fun keyOfTheWrongLengthIsRefused() {
        val dir = kotlin.io.path.createTempDirectory().toFile()
        val e = assertFailsWith<FieldConsultException.InvalidKey> {
            ConsultationStore.open(File(dir, "db"), ByteArray(16))
        }
        assertEquals(16u, e.length)
        dir.deleteRecursively()
    }

    @Test
    fun wipeLeavesNoFileBehind(): Unit = Fixture().use { f ->
        f.store.raw.saveVisit(f.member, f.visit())
        f.store.wipe()
        assertTrue(f.dir.listFiles()!!.isEmpty(), "left: ${f.dir.listFiles()!!.toList()}")
    }

    @Test
    fun aLostKeyIsKeyUnavailableAndNeverANewEmptyStore(): Unit = Fixture().use { f ->
        f.store.raw.saveVisit(f.member, f.visit())
        f.store.close()
        val before = f.file.readBytes()
        val e = assertFailsWith<FieldConsultException.KeyUnavailable> { ConsultationStore.open(f.file, null) }
        assertTrue(e.storeExists)
        assertContentEquals(before, f.file.readBytes())
    }

    @Test
    fun panicWipeLeavesNoFileBehind(): Unit = Fixture().use { f ->
        f.store.raw.saveVisit(f.member, f.visit())
        f.store.panicWipe()
        assertTrue(f.dir.listFiles()!!.isEmpty(), "left: ${f.dir.listFiles()!!.toList()}")
    }

    @Test
    fun textInEveryScriptRoundTrips(): Unit = Fixture().use { f ->
        val visit = f.visit()
        val texts = listOf(
            "المياه بعيدة والطريق غير آمن\u200F ليلاً",
            "ውሃ ሩቅ ነው፣ መንገዱ ደህንነቱ የተጠበቀ አይደለም",
            "ရေသည် ဝေးကွာပြီး လမ်းသည် မလုံခြုံပါ",
            "L'école est à deux heures de marche",
            "👩🏽‍⚕️ clinique mobile 🚰",
        )
        for (text in texts) {
            val s = f.completeSession(visit, Group.WOMEN).let {
                it.copy(sensitiveNote = text, answers = it.answers.map { a -> a.copy(note = text) })
            }
            val saved = f.store.raw.saveSession(f.member, s)
            assertEquals(text, saved.sensitiveNote)
            val read = f.store.raw.getSession(s.id).session
            assertEquals(text, read.sensitiveNote)
            assertEquals(text, read.answers.first().note)
        }
    }

    @Test
    fun decomposedTextComesBackComposed(): Unit = Fixture().use { f ->
        val s = f.completeSession(f.visit(), Group.WOMEN).copy(sensitiveNote = "e\u0301cole")
        assertEquals("\u00e9cole", f.store.raw.saveSession(f.member, s).sensitiveNote)
    }
}

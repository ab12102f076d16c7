package org.fieldconsult

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlinx.coroutines.runBlocking
import org.fieldconsult.ffi.FieldConsultException
import org.fieldconsult.ffi.FieldWarning
import org.fieldconsult.ffi.Group
import org.fieldconsult.ffi.PriorityCategory
import org.fieldconsult.ffi.Status
import org.fieldconsult.ffi.WarningKind
import org.fieldconsult.ffi.Withdrawal
import org.fieldconsult.ffi.sessionWarnings
import org.fieldconsult.ffi.visitWarnings

class DataResponsibilityTest {
    @Test
    fun aPhoneNumberInANoteMustBeConfirmedBeforeSubmission(): Unit = Fixture().use { f ->
        val s = f.completeSession(f.visit(), Group.WOMEN, PriorityCategory.WATER)
        val noted = s.copy(priorities = s.priorities.map { it.copy(note = "call +211 912 345 678") })
        val saved = f.store.raw.saveSession(f.member, noted)
        val expected = listOf(FieldWarning("priorities[0].note", WarningKind.PHONE))
        assertEquals(expected, sessionWarnings(saved))
        val e = assertFailsWith<FieldConsultException.UnconfirmedWarnings> {
            f.store.raw.submitSession(f.member, saved.id)
        }
        assertEquals(expected, e.warnings)
        val submitted = runBlocking { f.store.submit(f.member, saved.id, expected) }
        assertEquals(Status.SUBMITTED, submitted.status)
    }

    @Test
    fun anEmailInAVisitNoteMustBeConfirmedBeforeTheVisitIsSaved(): Unit = Fixture().use { f ->
        val noted = f.visit().copy(notes = "the chief: amina@example.org")
        val expected = listOf(FieldWarning("notes", WarningKind.EMAIL))
        assertEquals(expected, visitWarnings(noted))
        val e = assertFailsWith<FieldConsultException.UnconfirmedWarnings> {
            f.store.raw.saveVisit(f.member, noted)
        }
        assertEquals(expected, e.warnings)
        val saved = f.store.raw.saveVisitConfirming(f.member, noted, expected)
        assertEquals(noted.notes, saved.notes)
    }

    @Test
    fun aSessionWhoseNoteIsOnItsAuthorsDeviceSaysSoAmongItsWarnings(): Unit = Fixture().use { f ->
        val s = f.completeSession(f.visit(), Group.WOMEN)
        assertEquals(emptyList(), sessionWarnings(s))
        // As another device of the team holds it after sync: read-only, set by the core.
        val elsewhere = s.copy(plaintextHeldBy = listOf("0193a5e2-7c1d-7b3e-9f00-5a1b2c3d4e5f"))
        assertEquals(
            listOf(FieldWarning("plaintext_held_by", WarningKind.PLAINTEXT_ELSEWHERE)),
            sessionWarnings(elsewhere),
        )
    }

    @Test
    fun withdrawingConsentBeforeSyncErasesTheSession(): Unit = Fixture().use { f ->
        val s = f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.MEN))
        assertEquals(Withdrawal.ERASED, runBlocking { f.store.withdrawConsent(f.member, s.id) })
        assertFailsWith<FieldConsultException.NotFound> { f.store.raw.getSession(s.id) }
        assertFailsWith<FieldConsultException.NotPermitted> {
            f.store.raw.withdrawConsent(f.reviewer, f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.MEN)).id)
        }
    }
}

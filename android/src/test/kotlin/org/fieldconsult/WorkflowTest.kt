package org.fieldconsult

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fieldconsult.ffi.Action
import org.fieldconsult.ffi.AgeCounts
import org.fieldconsult.ffi.Decision
import org.fieldconsult.ffi.FieldConsultException
import org.fieldconsult.ffi.Group
import org.fieldconsult.ffi.PriorityCategory
import org.fieldconsult.ffi.SessionFilter
import org.fieldconsult.ffi.Status

class WorkflowTest {
    @Test
    fun aVisitWithSeparateWomensAndMensSessionsIsRecordedAndSubmitted(): Unit = Fixture().use { f ->
        val visit = f.visit()
        val women = f.store.raw.saveSession(f.member, f.completeSession(visit, Group.WOMEN, PriorityCategory.WATER))
        val men = f.store.raw.saveSession(f.member, f.completeSession(visit, Group.MEN, PriorityCategory.LIVELIHOODS_AND_WORK))
        for (s in listOf(women, men)) {
            assertEquals(Status.SUBMITTED, f.store.raw.submitSession(f.member, s.id).status)
        }
        val listed = f.store.sessions(SessionFilter(visitId = visit.id)).toList()
        assertEquals(setOf(Group.WOMEN, Group.MEN), listed.map { it.group }.toSet())
        assertTrue(listed.all { it.status == Status.SUBMITTED && it.syncPending })
        assertEquals(visit.startedAt.toOffsetDateTime(), f.store.raw.visit(visit.id).startedAt.toOffsetDateTime())
    }

    @Test
    fun validationErrorsNameEveryFieldAtOnce(): Unit = Fixture().use { f ->
        val s = f.completeSession(f.visit(), Group.WOMEN, PriorityCategory.WATER, PriorityCategory.HEALTH)
        val bad = s.copy(
            participants = s.participants.copy(male = AgeCounts(0u, 3u, 0u, 0u, 0u)),
            priorities = s.priorities.map { it.copy(rank = 1u) },
            sensitiveNote = "bell\u0007",
        )
        val e = assertFailsWith<FieldConsultException.Validation> { f.store.raw.saveSession(f.member, bad) }
        assertEquals(
            listOf("participants.male.age_18_29", "priorities[1].rank", "sensitive_note"),
            e.fields,
        )
        assertEquals("wrong_sex_for_group", e.problems[0].code)
        assertFailsWith<FieldConsultException.NotFound> { f.store.raw.getSession(s.id) }
    }

    @Test
    fun malformedIdsAndTimesAreValidationErrorsNotCrashes(): Unit = Fixture().use { f ->
        val s = f.completeSession(f.visit(), Group.MEN).copy(id = "not-an-id", startedAt = "yesterday")
        val e = assertFailsWith<FieldConsultException.Validation> { f.store.raw.saveSession(f.member, s) }
        assertEquals(listOf("id", "started_at"), e.fields)
        assertTrue(e.problems.all { it.code == "invalid_format" })
    }

    @Test
    fun incompleteSessionCannotBeSubmitted(): Unit = Fixture().use { f ->
        val s = f.completeSession(f.visit(), Group.WOMEN)
        val draft = f.store.raw.saveSession(f.member, s.copy(consent = s.consent.copy(verbalInformed = false), endedAt = null))
        val e = assertFailsWith<FieldConsultException.Validation> { f.store.raw.submitSession(f.member, draft.id) }
        assertEquals(listOf("consent.verbal_informed", "ended_at"), e.fields)
        assertEquals(Status.DRAFT, f.store.raw.getSession(draft.id).session.status)
    }

    @Test
    fun focalPointReturnsThenAcceptsAResubmittedSession(): Unit = Fixture().use { f ->
        val s = f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.WOMEN))
        f.store.raw.submitSession(f.member, s.id)
        f.store.raw.recordReview(f.reviewer, s.id, Decision.RETURNED, "Please add the age of the participants")
        val returned = f.store.raw.getSession(s.id)
        assertEquals(Status.RETURNED, returned.session.status)
        assertEquals(1, f.store.raw.badgeCounts().returned.toInt())

        // A checklist note, not the sensitive note: this fixture's sector has no sealing keys,
        // and submitting a sensitive note without them fails closed (NoSealingKeys).
        val fixed = returned.session.copy(answers = returned.session.answers.map { it.copy(note = "ages checked") })
        f.store.raw.saveSession(f.member, fixed)
        f.store.raw.submitSession(f.member, s.id)
        f.store.raw.recordReview(f.reviewer, s.id, Decision.ACCEPTED, "")
        val accepted = f.store.raw.getSession(s.id)
        assertEquals(Status.ACCEPTED, accepted.session.status)
        assertEquals(listOf(Decision.RETURNED, Decision.ACCEPTED), accepted.reviews.map { it.decision })
        assertEquals(
            listOf("create", "submit", "return", "edit", "submit", "accept"),
            f.store.raw.history(s.id).map { it.action },
        )

        val e = assertFailsWith<FieldConsultException.InvalidTransition> {
            f.store.raw.saveSession(f.member, accepted.session)
        }
        assertEquals(Status.ACCEPTED, e.from)
        assertEquals(Action.EDIT, e.action)
        f.store.raw.addAddendum(f.member, s.id, "Two more women joined late")
        assertEquals(1, f.store.raw.getSession(s.id).addenda.size)
    }

    @Test
    fun teamMembersCannotReview(): Unit = Fixture().use { f ->
        val s = f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.MEN))
        f.store.raw.submitSession(f.member, s.id)
        val e = assertFailsWith<FieldConsultException.NotPermitted> {
            f.store.raw.recordReview(f.member, s.id, Decision.ACCEPTED, "")
        }
        assertEquals(Action.ACCEPT, e.action)
    }

    @Test
    fun pagesWalkEverySessionOnceNewestFirst(): Unit = Fixture().use { f ->
        val visit = f.visit()
        val ids = (0 until 23).map { i ->
            val s = f.completeSession(visit, Group.MIXED).copy(startedAt = hoursAgo(100L + i).toCoreTime(), endedAt = null)
            f.store.raw.saveSession(f.member, s).id
        }
        val first = f.store.raw.listSessions(SessionFilter(), 10u)
        assertEquals(10, first.items.size)
        assertNotNull(first.next)
        val all = f.store.sessions(pageSize = 10).map { it.id }.toList()
        assertEquals(ids, all)
        val last = f.store.raw.listSessions(SessionFilter(), 10u, f.store.raw.listSessions(SessionFilter(), 10u, first.next).next)
        assertEquals(3, last.items.size)
        assertNull(last.next)
        assertFailsWith<FieldConsultException.InvalidCursor> { f.store.raw.listSessions(SessionFilter(), 10u, "garbage") }
    }
}

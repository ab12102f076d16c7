package org.fieldconsult

import java.util.Collections
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.fieldconsult.ffi.CancellationToken
import org.fieldconsult.ffi.FieldConsultException
import org.fieldconsult.ffi.Group
import org.fieldconsult.ffi.GroupBy
import org.fieldconsult.ffi.PriorityCategory
import org.fieldconsult.ffi.PriorityKey
import org.fieldconsult.ffi.ProgressListener
import org.fieldconsult.ffi.Decision
import org.fieldconsult.ffi.Language
import org.fieldconsult.ffi.ReportFormat
import org.fieldconsult.ffi.ReportScope
import org.fieldconsult.ffi.SessionFilter
import java.time.OffsetDateTime
import java.time.YearMonth

class ReportTest {
    @Test
    fun monthlyReportCountsTheAcceptedSessionsOfTheMonth(): Unit = Fixture().use { f ->
        val visit = f.visit()
        val accepted = f.store.raw.saveSession(f.member, f.completeSession(visit, Group.WOMEN, PriorityCategory.WATER))
        f.store.raw.submitSession(f.member, accepted.id)
        f.store.raw.recordReview(f.reviewer, accepted.id, Decision.ACCEPTED, "")
        val pending = f.store.raw.saveSession(f.member, f.completeSession(visit, Group.MEN, PriorityCategory.FOOD))
        f.store.raw.submitSession(f.member, pending.id)
        val month = YearMonth.from(OffsetDateTime.parse(accepted.startedAt)).toString()
        val scope = ReportScope.Team(f.team.id)

        val json = runBlocking { f.store.monthlyReport(scope, month, ReportFormat.JSON, Language.EN, minCell = 0u) }.single()
        val text = json.content.decodeToString()
        assertTrue(text.contains("\"scope_name\": \"Engagement Team 4\""), text.take(300))
        assertTrue(text.contains(accepted.id), "the accepted session is behind the figures")
        assertTrue(!text.contains(pending.id), "a pending session is not")

        val csv = runBlocking { f.store.monthlyReport(scope, month, ReportFormat.CSV, Language.FR) }
        val sessions = csv.single { it.name.endsWith("-sessions.csv") }
        assertEquals(2, sessions.content.decodeToString().trim().lines().size, "header and one session")

        val html = runBlocking { f.store.monthlyReport(scope, month, ReportFormat.HTML, Language.FR) }.single()
        assertEquals("text/html; charset=utf-8", html.mediaType)
        assertTrue(html.content.decodeToString().contains("Rapport mensuel sur le genre"))
    }

    @Test
    fun aMalformedMonthIsAValidationErrorNamingTheField(): Unit = Fixture().use { f ->
        val e = assertFailsWith<FieldConsultException.Validation> {
            runBlocking { f.store.monthlyReport(ReportScope.Mission, "October", ReportFormat.JSON, Language.EN) }
        }
        assertEquals(listOf("month"), e.problems.map { it.field })
    }

    @Test
    fun pairedComparisonShowsWhatOnlyWomenAndOnlyMenRaised(): Unit = Fixture().use { f ->
        val visit = f.visit()
        f.store.raw.saveSession(f.member, f.completeSession(visit, Group.WOMEN, PriorityCategory.WATER, PriorityCategory.SAFE_MOVEMENT))
        f.store.raw.saveSession(f.member, f.completeSession(visit, Group.MEN, PriorityCategory.SECURITY_AND_PROTECTION, PriorityCategory.WATER))
        val c = runBlocking { f.store.pairedComparison(SessionFilter(visitId = visit.id)) }
        assertEquals(1u, c.womenSessions)
        assertEquals(1u, c.menSessions)
        assertEquals(listOf(PriorityKey.Category(PriorityCategory.SAFE_MOVEMENT)), c.onlyWomen)
        assertEquals(listOf(PriorityKey.Category(PriorityCategory.SECURITY_AND_PROTECTION)), c.onlyMen)
        val water = c.priorities.single { it.key == PriorityKey.Category(PriorityCategory.WATER) }
        assertEquals(1u.toUByte(), water.women!!.bestRank)
        assertEquals(2u.toUByte(), water.men!!.bestRank)
    }

    @Test
    fun participationTableIsDisaggregatedBySexAndAge(): Unit = Fixture().use { f ->
        val visit = f.visit()
        f.store.raw.saveSession(f.member, f.completeSession(visit, Group.WOMEN))
        f.store.raw.saveSession(f.member, f.completeSession(visit, Group.MIXED))
        val t = runBlocking { f.store.participationTable(SessionFilter(), GroupBy.TEAM) }
        assertEquals(f.team.id, t.rows.single().key)
        assertEquals(24uL, t.total.female.total)
        assertEquals(12uL, t.total.male.total)
        assertEquals(10uL, t.total.female.age1829)
        assertEquals(1u, t.coverage.visitsWithWomenSession)
    }

    @Test
    fun aKotlinListenerIsCalledBackFromRust(): Unit = Fixture().use { f ->
        val visit = f.visit()
        repeat(3) { f.store.raw.saveSession(f.member, f.completeSession(visit, Group.WOMEN)) }
        val calls = Collections.synchronizedList(mutableListOf<Pair<ULong, ULong>>())
        val listener = object : ProgressListener {
            override fun onProgress(done: ULong, total: ULong) {
                calls.add(done to total)
            }
        }
        f.store.raw.pairedComparison(SessionFilter(), listener, null)
        assertEquals(listOf(3uL to 3uL), calls.toList())

        val lambdaCalls = mutableListOf<Long>()
        runBlocking { f.store.participationTable(SessionFilter(), GroupBy.OVERALL) { done, _ -> lambdaCalls.add(done) } }
        assertEquals(listOf(3L), lambdaCalls)
    }

    @Test
    fun aCancelledReportThrowsCancelled(): Unit = Fixture().use { f ->
        f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.MEN))
        val token = CancellationToken()
        token.cancel()
        assertTrue(token.isCancelled())
        assertFailsWith<FieldConsultException.Cancelled> {
            f.store.raw.participationTable(SessionFilter(), GroupBy.OVERALL, null, token)
        }
    }
}

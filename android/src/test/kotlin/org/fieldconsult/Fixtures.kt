package org.fieldconsult

import java.io.File
import java.nio.file.Files
import java.time.OffsetDateTime
import java.time.ZoneOffset
import org.fieldconsult.ffi.AffectedGroup
import org.fieldconsult.ffi.AgeCounts
import org.fieldconsult.ffi.ChecklistAnswer
import org.fieldconsult.ffi.Community
import org.fieldconsult.ffi.Concern
import org.fieldconsult.ffi.ConcernCategory
import org.fieldconsult.ffi.Group
import org.fieldconsult.ffi.Identity
import org.fieldconsult.ffi.Priority
import org.fieldconsult.ffi.PriorityCategory
import org.fieldconsult.ffi.Role
import org.fieldconsult.ffi.Session
import org.fieldconsult.ffi.Team
import org.fieldconsult.ffi.TopicResponse
import org.fieldconsult.ffi.Urgency
import org.fieldconsult.ffi.Visit
import org.fieldconsult.ffi.defaultChecklist
import org.fieldconsult.ffi.newId
import org.fieldconsult.ffi.newSessionDraft

/** A store in a fresh temporary folder with a team, a community and the default checklist. */
class Fixture : AutoCloseable {
    val dir: File = Files.createTempDirectory("fieldconsult-kt").toFile()
    val file = File(dir, "fieldconsult.db")
    val key = ByteArray(32) { 7 }
    val store = ConsultationStore.open(file, key)
    val team = Team(id = newId(), name = "Engagement Team 4", sector = "Sector West")
    val community = Community(id = newId(), name = "Yei", adminArea = "Central Equatoria", location = null)
    val member = Identity(id = "member-1", role = Role.TeamMember(team.id))
    val reviewer = Identity(id = "focal-point-west", role = Role.Reviewer("Sector West"))

    init {
        store.raw.upsertTeams(listOf(team))
        store.raw.upsertCommunities(listOf(community))
        store.raw.publishChecklist(defaultChecklist())
    }

    fun visit(): Visit = store.raw.saveVisit(
        member,
        Visit(
            id = newId(),
            teamId = team.id,
            communityId = community.id,
            startedAt = hoursAgo(3).toCoreTime(),
            endedAt = null,
            notes = "",
        ),
    )

    /** A session of [group] in [visit] complete enough to submit. */
    fun completeSession(visit: Visit, group: Group, vararg priorities: PriorityCategory): Session {
        val draft = newSessionDraft(visit.id, group, hoursAgo(2).toCoreTime())
        val counts = AgeCounts(age1217 = 1u, age1829 = 5u, age3059 = 4u, age60Plus = 2u, unknown = 0u)
        val none = AgeCounts(0u, 0u, 0u, 0u, 0u)
        val participants = when (group) {
            Group.WOMEN -> draft.participants.copy(female = counts, male = none)
            Group.MEN -> draft.participants.copy(female = none, male = counts)
            Group.MIXED -> draft.participants.copy(female = counts, male = counts)
        }
        return draft.copy(
            participants = participants,
            consent = draft.consent.copy(verbalInformed = true),
            endedAt = hoursAgo(1).toCoreTime(),
            answers = defaultChecklist().topics.filter { it.required }.map {
                ChecklistAnswer(topic = it.code, response = TopicResponse.DISCUSSED, note = "")
            },
            priorities = priorities.mapIndexed { i, category ->
                Priority(rank = (i + 1).toUByte(), category = category, otherLabel = "", note = "")
            },
            concerns = listOf(
                Concern(
                    category = ConcernCategory.MOVEMENT_RESTRICTION,
                    affected = listOf(if (group == Group.MEN) AffectedGroup.MEN else AffectedGroup.WOMEN),
                    location = "road to the market",
                    timing = "at night",
                    urgency = Urgency.ROUTINE,
                    note = "",
                ),
            ),
        )
    }

    override fun close() {
        store.close()
        dir.deleteRecursively()
    }
}

fun hoursAgo(h: Long): OffsetDateTime =
    OffsetDateTime.now(ZoneOffset.ofHours(3)).minusHours(h).withNano(0)

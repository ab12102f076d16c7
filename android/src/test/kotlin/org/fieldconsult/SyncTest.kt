package org.fieldconsult

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.fieldconsult.ffi.FieldConsultException
import org.fieldconsult.ffi.Group
import org.fieldconsult.ffi.HttpHeader
import org.fieldconsult.ffi.HttpRequest
import org.fieldconsult.ffi.HttpResponse
import org.fieldconsult.ffi.HttpTransport
import org.fieldconsult.ffi.Role
import org.fieldconsult.ffi.TlsOptions
import org.fieldconsult.ffi.TransportFailure

/** A transport written in Kotlin, as an app would supply one (OkHttp with pinning). */
class ScriptedTransport(private val answer: (HttpRequest) -> HttpResponse) : HttpTransport {
    val requests = mutableListOf<HttpRequest>()

    override fun send(request: HttpRequest): HttpResponse {
        requests.add(request)
        return answer(request)
    }
}

private fun json(status: Int, body: String) = HttpResponse(
    status = status.toUShort(),
    headers = listOf(HttpHeader("content-type", "application/json")),
    body = body.toByteArray(),
)

class SyncTest {
    @Test
    fun aKotlinTransportCarriesEnrolmentAndAnIdleSync(): Unit = Fixture().use { f ->
        val transport = ScriptedTransport { request ->
            when {
                request.path == "/v1/enrol" -> json(
                    200,
                    """{"device_id":"device-7","token":"secret-token","role":{"kind":"team_member","team_id":"${f.team.id}"}}""",
                )
                request.path.startsWith("/v1/pull") -> json(200, """{"records":[],"cursor":0,"more":false}""")
                else -> json(404, """{"type":"about:blank","title":"not found","status":404}""")
            }
        }
        val enrolment = f.store.raw.enrolWith(transport, "ABCD-EFGH", "tablet 1")
        assertEquals("device-7", enrolment.deviceId)
        assertEquals(Role.TeamMember(f.team.id), enrolment.role)
        assertEquals("device-7", f.store.raw.enrolment()!!.deviceId)

        val report = f.store.raw.syncWith(transport, null, null)
        assertEquals(1uL, report.requests, "nothing to push: one pull")
        val pull = transport.requests.last()
        assertEquals("GET", pull.method)
        assertTrue(pull.headers.any { it.name == "authorization" && it.value == "Bearer secret-token" })
    }

    @Test
    fun recordsPendingUntilTheServerAcknowledgesThem(): Unit = Fixture().use { f ->
        val s = f.store.raw.saveSession(f.member, f.completeSession(f.visit(), Group.WOMEN))
        val failing = ScriptedTransport { request ->
            if (request.path == "/v1/enrol") {
                json(200, """{"device_id":"d","token":"t","role":{"kind":"team_member","team_id":"${f.team.id}"}}""")
            } else {
                throw TransportFailure.Network("connection reset")
            }
        }
        f.store.raw.enrolWith(failing, "CODE", "tablet")
        val e = assertFailsWith<FieldConsultException.Network> { f.store.raw.syncWith(failing, null, null) }
        assertTrue(e.reason.contains("connection reset"))
        val row = f.store.raw.getSession(s.id)
        assertTrue(row.syncPending)
        assertEquals(org.fieldconsult.ffi.SyncState.PENDING, row.syncState)
    }

    @Test
    fun enrolmentRefusesAServerWithoutTheRootKeyOfTheQrCode(): Unit = Fixture().use { f ->
        val transport = ScriptedTransport { _ ->
            json(200, """{"device_id":"d","token":"t","role":{"kind":"team_member","team_id":"${f.team.id}"}}""")
        }
        assertFailsWith<FieldConsultException.RootKeyMismatch> {
            f.store.raw.enrolWith(transport, "CODE", "tablet", "0".repeat(64))
        }
        assertEquals(null, f.store.raw.enrolment())
    }

    @Test
    fun syncBeforeEnrolmentIsNotEnrolled(): Unit = Fixture().use { f ->
        assertFailsWith<FieldConsultException.NotEnrolled> { f.store.raw.sync(null, null) }
    }

    @Test
    fun aSinglePinWithoutBackupIsInvalidTlsOptionsBeforeConnecting(): Unit = Fixture().use { f ->
        // Nothing listens on port 9: only the options can be at fault.
        val tls = TlsOptions(pins = listOf("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
        val e = assertFailsWith<FieldConsultException.InvalidTlsOptions> {
            f.store.raw.enrol("https://127.0.0.1:9", "CODE", "tablet", tls)
        }
        assertTrue(e.reason.contains("at least two"))
        assertEquals(null, f.store.raw.enrolment())
    }
}

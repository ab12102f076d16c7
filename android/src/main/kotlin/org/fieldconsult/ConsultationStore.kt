package org.fieldconsult

import java.io.Closeable
import java.io.File
import java.time.OffsetDateTime
import java.time.format.DateTimeFormatter
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.withContext
import org.fieldconsult.ffi.CancellationToken
import org.fieldconsult.ffi.FieldConsultException
import org.fieldconsult.ffi.FieldConsultStore
import org.fieldconsult.ffi.FieldWarning
import org.fieldconsult.ffi.GroupBy
import org.fieldconsult.ffi.Identity
import org.fieldconsult.ffi.Language
import org.fieldconsult.ffi.PairedComparison
import org.fieldconsult.ffi.ParticipationTable
import org.fieldconsult.ffi.ProgressListener
import org.fieldconsult.ffi.ReportFile
import org.fieldconsult.ffi.ReportFormat
import org.fieldconsult.ffi.ReportScope
import org.fieldconsult.ffi.SessionFilter
import org.fieldconsult.ffi.Session
import org.fieldconsult.ffi.SessionSummary
import org.fieldconsult.ffi.Withdrawal

/**
 * The encrypted store of consultations on this device, the Kotlin way: [Closeable], opened
 * from a [File], with coroutine-friendly calls that run on [Dispatchers.IO] and lazy paging.
 *
 * Every call of [raw] is blocking and safe from any thread; use [io] to run one from a
 * coroutine. Errors are [FieldConsultException] cases: catch them with `when`.
 */
class ConsultationStore private constructor(
    /** The generated binding, for calls this layer does not wrap. */
    val raw: FieldConsultStore,
) : Closeable {

    companion object {
        /**
         * Opens (or creates) the store in [file] with the 32-byte [key] from the Android
         * Keystore. A wrong key throws [FieldConsultException.WrongKey] and leaves the file
         * untouched; a null key (the Keystore lost it) throws
         * [FieldConsultException.KeyUnavailable] and creates nothing.
         */
        @JvmStatic
        @JvmOverloads
        fun open(file: File, key: ByteArray?, preciseLocations: Boolean = false): ConsultationStore =
            ConsultationStore(FieldConsultStore.open(file.path, key, preciseLocations))
    }

    /** Runs [block] against the store on [Dispatchers.IO]. */
    suspend fun <T> io(block: FieldConsultStore.() -> T): T =
        withContext(Dispatchers.IO) { raw.block() }

    /**
     * Every session matching [filter], newest first, fetched lazily [pageSize] at a time as the
     * sequence is iterated.
     */
    fun sessions(filter: SessionFilter = SessionFilter(), pageSize: Int = 100): Sequence<SessionSummary> =
        sequence {
            var after: String? = null
            do {
                val page = raw.listSessions(filter, pageSize.toUInt(), after)
                yieldAll(page.items)
                after = page.next
            } while (after != null)
        }

    /**
     * Women's and men's views side by side, on [Dispatchers.IO]. [onProgress] receives
     * (done, total); cancelling the coroutine cancels the computation.
     */
    suspend fun pairedComparison(
        filter: SessionFilter,
        onProgress: ((Long, Long) -> Unit)? = null,
    ): PairedComparison = cancellable { token ->
        raw.pairedComparison(filter, onProgress?.let(::listener), token)
    }

    /** The sex × age-band participation table with coverage, on [Dispatchers.IO]. */
    suspend fun participationTable(
        filter: SessionFilter,
        by: GroupBy,
        onProgress: ((Long, Long) -> Unit)? = null,
    ): ParticipationTable = cancellable { token ->
        raw.participationTable(filter, by, onProgress?.let(::listener), token)
    }

    /**
     * The monthly gender report of [scope] for [month] (`YYYY-MM`) over what this device holds,
     * rendered in [format] with labels in [language], on [Dispatchers.IO]. Participant counts
     * below [minCell] are hidden so that no one is identifiable.
     */
    suspend fun monthlyReport(
        scope: ReportScope,
        month: String,
        format: ReportFormat,
        language: Language,
        minCell: UInt = 5u,
        onProgress: ((Long, Long) -> Unit)? = null,
    ): List<ReportFile> = cancellable { token ->
        raw.monthlyReport(scope, month, format, language, minCell, onProgress?.let(::listener), token)
    }

    /**
     * Submits [sessionId] on [Dispatchers.IO], with the warnings the author saw (from
     * `sessionWarnings`) and confirmed. Throws [FieldConsultException.UnconfirmedWarnings]
     * listing any other: the confirmation holds for this submission only, so a field edited
     * since it was shown must be confirmed again.
     */
    suspend fun submit(actor: Identity, sessionId: String, confirmed: List<FieldWarning> = emptyList()): Session =
        withContext(Dispatchers.IO) { raw.submitSessionConfirming(actor, sessionId, confirmed) }

    /**
     * Deletes [sessionId] because its participants withdrew their consent, on
     * [Dispatchers.IO]: [Withdrawal.ERASED] if the server never had it, [Withdrawal.QUEUED]
     * if the withdrawal goes to the server with the next sync.
     */
    suspend fun withdrawConsent(actor: Identity, sessionId: String): Withdrawal =
        withContext(Dispatchers.IO) { raw.withdrawConsent(actor, sessionId) }

    private val closed = AtomicBoolean(false)

    /** Closes the database and deletes it with its companion files. */
    fun wipe() {
        if (closed.compareAndSet(false, true)) {
            try {
                raw.wipe()
            } finally {
                raw.close()
            }
        }
    }

    /**
     * The panic button: closes the database, overwrites it and its companion files with zeros,
     * flushes and deletes them. Delete the key from the Android Keystore too.
     */
    fun panicWipe() {
        if (closed.compareAndSet(false, true)) {
            try {
                raw.panicWipe()
            } finally {
                raw.close()
            }
        }
    }

    /** Closes the database; closing twice does nothing. */
    override fun close() {
        if (closed.compareAndSet(false, true)) {
            raw.closeDatabase()
            raw.close()
        }
    }

    private suspend fun <T> cancellable(call: (CancellationToken) -> T): T {
        val token = CancellationToken()
        val handle = currentCoroutineContext()[Job]?.invokeOnCompletion { cause ->
            if (cause is CancellationException) token.cancel()
        }
        try {
            return withContext(Dispatchers.IO) { call(token) }
        } finally {
            handle?.dispose()
            token.close()
        }
    }

    private fun listener(onProgress: (Long, Long) -> Unit): ProgressListener =
        object : ProgressListener {
            override fun onProgress(done: ULong, total: ULong) = onProgress(done.toLong(), total.toLong())
        }
}

/** This time as the core expects it: RFC 3339 with its offset. */
fun OffsetDateTime.toCoreTime(): String = format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)

/** A time from the core (RFC 3339 with offset). */
fun String.toOffsetDateTime(): OffsetDateTime = OffsetDateTime.parse(this)

/** The fields named by a validation error, in order. */
val FieldConsultException.Validation.fields: List<String>
    get() = problems.map { it.field }

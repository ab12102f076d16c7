package org.fieldconsult

import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.fieldconsult.ffi.Group
import org.fieldconsult.ffi.SessionFilter

class ConcurrencyTest {
    @Test
    fun callsFromManyKotlinThreadsAtOnceLoseNothing(): Unit = Fixture().use { f ->
        val visit = f.visit()
        val pool = Executors.newFixedThreadPool(8)
        val tasks = (0 until 8).map { t ->
            Callable {
                (0 until 10).map { i ->
                    val group = listOf(Group.WOMEN, Group.MEN, Group.MIXED)[(t + i) % 3]
                    val s = f.store.raw.saveSession(f.member, f.completeSession(visit, group))
                    if (i % 2 == 0) f.store.raw.submitSession(f.member, s.id)
                    f.store.raw.listSessions(SessionFilter(), 20u, null)
                    f.store.raw.badgeCounts()
                    s.id
                }
            }
        }
        val ids = pool.invokeAll(tasks).flatMap { it.get() }
        pool.shutdown()
        pool.awaitTermination(10, TimeUnit.SECONDS)
        assertEquals(80, ids.toSet().size)
        assertEquals(80, f.store.sessions().count())
        assertEquals(40u, f.store.raw.badgeCounts().drafts)
    }

    @Test
    fun coroutinesOnTheIoDispatcherShareTheStore(): Unit = Fixture().use { f ->
        val visit = f.visit()
        val saved = runBlocking(Dispatchers.Default) {
            (0 until 16).map {
                async { f.store.io { saveSession(f.member, f.completeSession(visit, Group.WOMEN)).id } }
            }.awaitAll()
        }
        assertEquals(16, saved.toSet().size)
        assertEquals(16, f.store.sessions(SessionFilter(visitId = visit.id)).count())
    }
}

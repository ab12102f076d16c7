import Foundation
import FieldConsultFFI

/// The encrypted store of consultations on this device, the Swift way: opened from a file URL,
/// async reports that honour task cancellation, and paging folded into one call.
///
/// Every call of `raw` is blocking and safe from any thread; call it off the main thread.
/// Errors are `FieldConsultError` cases: catch them by case.
public final class ConsultationStore: @unchecked Sendable {
    /// The generated binding, for calls this layer does not wrap.
    public let raw: FieldConsultStore

    private init(raw: FieldConsultStore) {
        self.raw = raw
    }

    /// Opens (or creates) the store at `url` with the 32-byte `key` from the Keychain. A wrong
    /// key throws `FieldConsultError.WrongKey` and leaves the file untouched; a nil key (the
    /// Keychain lost it) throws `FieldConsultError.KeyUnavailable` and creates nothing.
    public static func open(at url: URL, key: Data?, preciseLocations: Bool = false) throws -> ConsultationStore {
        ConsultationStore(raw: try FieldConsultStore.open(path: url.path, key: key, preciseLocations: preciseLocations))
    }

    /// Every session matching `filter`, newest first, fetched `pageSize` at a time.
    public func allSessions(filter: SessionFilter = SessionFilter(), pageSize: UInt32 = 100) throws -> [SessionSummary] {
        var all: [SessionSummary] = []
        var after: String? = nil
        repeat {
            let page = try raw.listSessions(filter: filter, limit: pageSize, after: after)
            all.append(contentsOf: page.items)
            after = page.next
        } while after != nil
        return all
    }

    /// Women's and men's views side by side, computed off the caller's thread. `onProgress`
    /// receives (done, total); cancelling the task cancels the computation.
    public func pairedComparison(
        _ filter: SessionFilter,
        onProgress: (@Sendable (UInt64, UInt64) -> Void)? = nil
    ) async throws -> PairedComparison {
        try await cancellable { token in
            try self.raw.pairedComparison(filter: filter, listener: onProgress.map(ClosureListener.init), cancel: token)
        }
    }

    /// The sex × age-band participation table with coverage, computed off the caller's thread.
    public func participationTable(
        _ filter: SessionFilter,
        by: GroupBy,
        onProgress: (@Sendable (UInt64, UInt64) -> Void)? = nil
    ) async throws -> ParticipationTable {
        try await cancellable { token in
            try self.raw.participationTable(
                filter: filter, by: by, listener: onProgress.map(ClosureListener.init), cancel: token)
        }
    }

    /// The monthly gender report of `scope` for `month` (`YYYY-MM`) over what this device
    /// holds, rendered in `format` with labels in `language`, off the caller's thread.
    /// Participant counts below `minCell` are hidden so that no one is identifiable.
    public func monthlyReport(
        _ scope: ReportScope,
        month: String,
        format: ReportFormat,
        language: Language,
        minCell: UInt32 = 5,
        onProgress: (@Sendable (UInt64, UInt64) -> Void)? = nil
    ) async throws -> [ReportFile] {
        try await cancellable { token in
            try self.raw.monthlyReport(
                scope: scope, month: month, format: format, language: language, minCell: minCell,
                listener: onProgress.map(ClosureListener.init), cancel: token)
        }
    }

    /// Submits a session with the warnings the author saw (`sessionWarnings`) and confirmed.
    /// Throws `FieldConsultError.UnconfirmedWarnings` listing any other: the confirmation
    /// holds for this submission only, so a field edited since must be confirmed again.
    public func submit(actor: Identity, sessionId: String, confirming confirmed: [FieldWarning] = []) throws -> Session {
        try raw.submitSessionConfirming(actor: actor, sessionId: sessionId, confirmed: confirmed)
    }

    /// Deletes a session because its participants withdrew their consent: `.erased` if the
    /// server never had it, `.queued` if the withdrawal goes with the next sync.
    public func withdrawConsent(actor: Identity, sessionId: String) throws -> Withdrawal {
        try raw.withdrawConsent(actor: actor, sessionId: sessionId)
    }

    /// Closes the database and deletes it with its companion files.
    public func wipe() throws {
        try raw.wipe()
    }

    /// The panic button: closes the database, overwrites it and its companion files with
    /// zeros, flushes and deletes them. Delete the key from the Keychain too.
    public func panicWipe() throws {
        try raw.panicWipe()
    }

    /// Closes the database; later calls throw `FieldConsultError.Closed`.
    public func close() {
        raw.closeDatabase()
    }

    deinit {
        raw.closeDatabase()
    }

    /// Runs a blocking call on a background queue; cancelling the task cancels the call.
    private func cancellable<T>(_ call: @escaping (CancellationToken) throws -> T) async throws -> T {
        let token = CancellationToken()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global(qos: .utility).async {
                    continuation.resume(with: Result { try call(token) })
                }
            }
        } onCancel: {
            token.cancel()
        }
    }
}

/// A closure as the core's progress listener.
final class ClosureListener: ProgressListener, @unchecked Sendable {
    private let onProgress: @Sendable (UInt64, UInt64) -> Void

    init(_ onProgress: @escaping @Sendable (UInt64, UInt64) -> Void) {
        self.onProgress = onProgress
    }

    func onProgress(done: UInt64, total: UInt64) {
        onProgress(done, total)
    }
}

/// Times as the core expects them: RFC 3339 with the offset of the place they were recorded.
public enum CoreTime {
    /// `date` in `timeZone`, e.g. `2026-11-22T14:03:00.000+03:00`.
    public static func string(_ date: Date, in timeZone: TimeZone = .current) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = timeZone
        return f.string(from: date)
    }

    /// The instant of a time from the core.
    public static func date(_ string: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: string)
    }
}

extension FieldConsultError {
    /// The fields named by a validation error, in order; empty for other errors.
    public var fields: [String] {
        if case let .Validation(problems) = self {
            return problems.map(\.field)
        }
        return []
    }
}

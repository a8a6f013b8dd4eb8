import CSQLite

/// Durable record of SQN reservations, one row per IMSI: `seq_reserved` is the highest
/// SEQ the HSS may have handed out. The HSS writes a new reservation (and SQLite commits
/// it, WAL + synchronous=FULL) before it hands out any SEQ above the old one, so after a
/// crash or kill -9 it resumes above every SQN it ever returned.
///
/// Not thread-safe: the HSS only touches it while holding its lock.
final class SQNStore {
    private var db: OpaquePointer?
    private var upsert: OpaquePointer?
    let path: String

    /// Opens (creating if needed) the database at `path`; ":memory:" keeps nothing.
    init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
        db = handle
        guard rc == SQLITE_OK else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            db = nil
            throw HSSError.database("open \(path): \(msg)")
        }
        sqlite3_busy_timeout(db, 5000)
        try exec("PRAGMA journal_mode=WAL")
        try exec("PRAGMA synchronous=FULL")
        try exec("""
            CREATE TABLE IF NOT EXISTS sqn_reservation (
                imsi TEXT PRIMARY KEY NOT NULL,
                seq_reserved INTEGER NOT NULL
            )
            """)
        var stmt: OpaquePointer?
        try check(sqlite3_prepare_v2(db, """
            INSERT INTO sqn_reservation (imsi, seq_reserved) VALUES (?1, ?2)
            ON CONFLICT(imsi) DO UPDATE SET seq_reserved = excluded.seq_reserved
            """, -1, &stmt, nil), "prepare upsert")
        upsert = stmt
    }

    deinit {
        sqlite3_finalize(upsert)
        sqlite3_close(db)
    }

    /// Every stored reservation.
    func loadAll() throws -> [String: UInt64] {
        var stmt: OpaquePointer?
        try check(sqlite3_prepare_v2(db, "SELECT imsi, seq_reserved FROM sqn_reservation", -1, &stmt, nil), "prepare select")
        defer { sqlite3_finalize(stmt) }
        var out: [String: UInt64] = [:]
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error("select", rc) }
            guard let text = sqlite3_column_text(stmt, 0) else { continue }
            let seq = sqlite3_column_int64(stmt, 1)
            out[String(cString: text)] = UInt64(max(seq, 0))
        }
        return out
    }

    /// Commits `seqReserved` for `imsi` (autocommit: durable when this returns).
    func reserve(imsi: String, seqReserved: UInt64) throws {
        guard let upsert else { throw HSSError.database("store closed") }
        defer { sqlite3_reset(upsert); sqlite3_clear_bindings(upsert) }
        let rc: Int32 = imsi.withCString { p in
            let b1 = sqlite3_bind_text(upsert, 1, p, -1, nil) // SQLITE_STATIC: p outlives the step
            let b2 = sqlite3_bind_int64(upsert, 2, Int64(seqReserved))
            guard b1 == SQLITE_OK, b2 == SQLITE_OK else { return b1 != SQLITE_OK ? b1 : b2 }
            return sqlite3_step(upsert)
        }
        guard rc == SQLITE_DONE else { throw error("reserve SEQ for \(imsi)", rc) }
    }

    private func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "code \(rc)"
            sqlite3_free(err)
            throw HSSError.database("\(sql): \(msg)")
        }
    }

    private func check(_ rc: Int32, _ what: String) throws {
        if rc != SQLITE_OK { throw error(what, rc) }
    }

    private func error(_ what: String, _ rc: Int32) -> HSSError {
        .database("\(what): \(db.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(rc)") (\(rc))")
    }
}

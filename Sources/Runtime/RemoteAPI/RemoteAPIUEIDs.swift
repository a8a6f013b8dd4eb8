import Synchronization

/// The callbox's `ue_id`: a small integer per UE (IMSI) that `ue_get` and `ipsec` both
/// report, so a script can join their answers. Handed out from 1 in the order the API first
/// meets a UE and kept for the process's life (a UE that re-attaches keeps its id); only
/// ue_db SIMs attach, so the table stays as small as the ue_db. Thread-safe: the gathered
/// replies finish on whichever shard loop answers last.
final class RemoteAPIUEIDs: Sendable {
    private let state = Mutex<(ids: [String: Int], next: Int)>(([:], 1))

    func id(_ imsi: String) -> Int {
        state.withLock { s in
            if let id = s.ids[imsi] { return id }
            defer { s.next += 1 }
            s.ids[imsi] = s.next
            return s.next
        }
    }
}

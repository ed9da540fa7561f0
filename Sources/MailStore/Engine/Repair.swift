import MailMessage

/// One thing `repair()` rebuilt or removed, for the per-problem report.
public struct RepairAction: Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

extension MailStore {
    /// Content records whose parsed structure one write of `repair` checks.
    static let repairBatch = 1000

    /// Rebuilds what the store derives from its message records and message content, as
    /// `checkConsistency` recomputes it: parsed structures from the bytes, content reference
    /// counts and the hash index, orphaned content and pieces, each mailbox's counts, UIDNEXT,
    /// HIGHESTMODSEQ and change log, its sort keys and full-text index, account usage, and index
    /// segments of deleted mailboxes. Returns what it changed; an empty result means nothing
    /// needed it.
    ///
    /// It never removes a message record, so every message that can be read stays. What it
    /// cannot rebuild (content that is missing or whose pieces do not add up) is left for
    /// `checkConsistency` to report. Each step is a write of its own, so it may run while the
    /// store is in use. `progress` gets the number of messages of the mailboxes done so far.
    public func repair(progress: @escaping @Sendable (Int) -> Void = { _ in }) async throws -> [RepairAction] {
        var actions: [RepairAction] = []
        // Structures first: the sort keys and the index are built from them.
        var after: ContentID?
        repeat {
            let from = after
            let (done, last) = try await write { tx in try tx.repairStructures(after: from, limit: Self.repairBatch) }
            actions += done
            after = last
        } while after != nil
        actions += try await write { tx in try tx.repairContentReferences() }
        let mailboxes = try read { tx in try tx.accounts().flatMap { try tx.mailboxes(of: $0.id).map(\.id) } }
        var messages = 0
        for id in mailboxes {
            let before = messages
            let (done, count) = try await write { tx in try tx.repairMailbox(id) { progress(before + $0) } }
            actions += done
            messages += count
        }
        actions += try await write { tx in
            try tx.accounts().compactMap { account in
                let r = try tx.recalculateUsage(account.id)
                return r.changed ? RepairAction(description: "\(r.account): usage \(r.oldBytes)/\(r.oldMessages) "
                                                + "recomputed as \(r.newBytes)/\(r.newMessages)") : nil
            }
        }
        actions += try await write { tx in try tx.removeOrphanedIndex() }
        return actions
    }
}

extension StoreReader {
    /// The structure the content's bytes parse to, as stored at append; nil when the content's
    /// pieces do not add up to its size (then the bytes are not the message's).
    func reparsedStructure(of id: ContentID, _ record: ContentRecord) throws -> [UInt8]? {
        let raw = try content(id)
        return raw.count == record.size ? ParsedMessage.parse(raw).serialized() : nil
    }
}

extension StoreWriter {
    /// Stored structures of up to `limit` contents after `after` that differ from what their bytes
    /// parse to are replaced. Returns the actions and the last content looked at, or nil at the end.
    func repairStructures(after: ContentID?, limit: Int) throws -> ([RepairAction], ContentID?) {
        var ids: [ContentID] = []
        let lower = after.map { Keys.content(ContentID(rawValue: $0.rawValue + 1)) } ?? []
        try kv.scan(.contents, from: lower, to: nil, reverse: false) { k, _ in
            ids.append(ContentID(rawValue: readU64(k, at: 0)))
            return ids.count < limit
        }
        var actions: [RepairAction] = []
        for id in ids {
            guard var record = try contentRecord(id), !record.structure.isEmpty,
                  let fresh = try reparsedStructure(of: id, record), fresh != record.structure else { continue }
            record.structure = fresh
            try w.put(.contents, Keys.content(id), record.encoded())
            actions.append(RepairAction(description: "content \(id): parsed structure rebuilt from its bytes"))
        }
        return (actions, ids.count == limit ? ids.last : nil)
    }

    /// Reference counts recounted from every message record; content no record refers to
    /// removed with its pieces; pieces without content removed; the hash index made to map each
    /// content's SHA-256 to it and nothing else.
    func repairContentReferences() throws -> [RepairAction] {
        var actions: [RepairAction] = []
        func note(_ s: String) { actions.append(RepairAction(description: s)) }
        var references: [ContentID: Int] = [:]
        try kv.scan(.messages, prefix: []) { k, v in
            references[try MessageRecord(uid: UID(readU32(k, at: 4)), decoding: v).content, default: 0] += 1
            return true
        }
        var stored: [(id: ContentID, references: Int, sha256: [UInt8])] = []
        try kv.scan(.contents, prefix: []) { k, v in
            let record = try ContentRecord(decoding: v)
            stored.append((ContentID(rawValue: readU64(k, at: 0)), record.references, record.sha256))
            return true
        }
        var kept: [ContentID: [UInt8]] = [:]
        // A record lost while its pieces stayed: the message can still be read, so the record
        // is rebuilt from the pieces.
        let recorded = Set(stored.map(\.id))
        for (id, wanted) in references.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where !recorded.contains(id) {
            var pieces = 0
            try forEachPiece(of: id) { _ in pieces += 1 }
            guard pieces > 0 else { continue }  // nothing left to read: check keeps reporting it
            let prepared = PreparedMessage(try content(id))
            let record = ContentRecord(references: wanted, size: prepared.size, sha256: prepared.sha256,
                                       pieceCount: pieces, structure: prepared.structure)
            try w.put(.contents, Keys.content(id), record.encoded())
            kept[id] = prepared.sha256
            note("content \(id): record rebuilt from its \(pieces) pieces")
        }
        for (id, count, sha256) in stored {
            let wanted = references[id, default: 0]
            if wanted == 0 {
                try w.delete(.contents, Keys.content(id))
                note("content \(id): no message refers to it; removed")
                continue
            }
            kept[id] = sha256
            if count != wanted, var record = try contentRecord(id) {
                record.references = wanted
                try w.put(.contents, Keys.content(id), record.encoded())
                note("content \(id): \(count) references recounted as \(wanted)")
            }
        }
        var stalePieces: [[UInt8]] = []
        try kv.scan(.chunks, prefix: []) { k, _ in
            if kept[ContentID(rawValue: readU64(k, at: 0))] == nil { stalePieces.append(Array(k)) }
            return true
        }
        for key in stalePieces { try w.delete(.chunks, key) }
        if !stalePieces.isEmpty { note("\(stalePieces.count) content pieces without content removed") }
        let newest = try newestContentID()
        var mark = try hashIndexedThrough()
        if mark > newest.rawValue {
            mark = newest.rawValue
            try markHashIndexed(through: newest)
            note("hash index mark moved back to the newest content")
        }
        var staleHashes: [[UInt8]] = []
        try kv.scan(.contentHashes, prefix: []) { k, v in
            let id = readU64(v, at: 0)
            if id > mark || kept[ContentID(rawValue: id)] != Array(k) { staleHashes.append(Array(k)) }
            return true
        }
        for key in staleHashes { try w.delete(.contentHashes, key) }
        if !staleHashes.isEmpty { note("\(staleHashes.count) hash index entries that pointed nowhere removed") }
        for (id, sha256) in kept.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where id.rawValue <= mark {
            guard try indexedContentID(sha256: sha256) != id else { continue }
            try w.put(.contentHashes, sha256, ByteWriter.u64Bytes(id.rawValue))
            note("content \(id): hash index entry restored")
        }
        return actions
    }

    /// The mailbox's counts, UIDNEXT, HIGHESTMODSEQ and change log made to agree with its
    /// message records, and its sort keys and index rebuilt when they differ from its content.
    /// Returns the actions and the number of messages.
    func repairMailbox(_ id: MailboxID, progress: (Int) -> Void) throws -> ([RepairAction], Int) {
        guard var mailbox = try mailbox(id) else { return ([], 0) }  // deleted meanwhile
        let original = mailbox
        var actions: [RepairAction] = []
        func note(_ s: String) { actions.append(RepairAction(description: "\(mailbox.name): \(s)")) }
        var messages = 0, unseen = 0, deleted = 0, size = 0
        var maxUID: UInt32 = 0
        var maxModSeq = mailbox.highestModSeq
        var live: [UID: ModSeq] = [:]
        try forEachMessage(in: id) { r in
            messages += 1; size += r.size
            if !r.flags.contains(.seen) { unseen += 1 }
            if r.flags.contains(.deleted) { deleted += 1 }
            maxUID = max(maxUID, r.uid.rawValue)
            maxModSeq = max(maxModSeq, r.modSeq)
            live[r.uid] = r.modSeq
            return true
        }
        // One live change-log entry per message, at its modseq; others become expunge entries
        // (the message is gone) or go (the message is logged at its current modseq).
        var logged = Set<UID>()
        var stray: [(ModSeq, UID)] = []
        try kv.scan(.changes, prefix: Keys.mailboxPrefix(id)) { k, v in
            let modSeq = ModSeq(readU64(k, at: 4)), uid = UID(readU32(k, at: 12))
            maxModSeq = max(maxModSeq, modSeq)
            if v.first == ChangeKind.updated.rawValue {
                if live[uid] == modSeq { logged.insert(uid) } else { stray.append((modSeq, uid)) }
            }
            return true
        }
        for (modSeq, uid) in stray {
            if live[uid] == nil {
                try w.put(.changes, Keys.change(id, modSeq, uid), [ChangeKind.expunged.rawValue])
            } else {
                try w.delete(.changes, Keys.change(id, modSeq, uid))
            }
        }
        if !stray.isEmpty { note("\(stray.count) change-log entries that did not match a message corrected") }
        let unlogged = live.filter { !logged.contains($0.key) }.sorted { $0.key < $1.key }
        for (uid, modSeq) in unlogged { try w.put(.changes, Keys.change(id, modSeq, uid), [ChangeKind.updated.rawValue]) }
        if !unlogged.isEmpty { note("\(unlogged.count) messages added to the change log") }
        if mailbox.uidNext.rawValue <= maxUID {
            mailbox.uidNext = UID(maxUID + 1)
            note("UIDNEXT \(original.uidNext) raised to \(mailbox.uidNext)")
        }
        if maxModSeq > mailbox.highestModSeq {
            mailbox.highestModSeq = maxModSeq
            note("HIGHESTMODSEQ \(original.highestModSeq) raised to \(maxModSeq)")
        }
        if (messages, unseen, deleted, size) != (mailbox.messages, mailbox.unseen, mailbox.deleted, mailbox.size) {
            (mailbox.messages, mailbox.unseen, mailbox.deleted, mailbox.size) = (messages, unseen, deleted, size)
            note("counts \(original.messages)/\(original.unseen)/\(original.deleted)/\(original.size) "
                 + "recomputed as \(messages)/\(unseen)/\(deleted)/\(size)")
        }
        if actions.count > 0 { try save(mailbox) }
        let recordProblems = try recordIndexProblems(id)
        if !recordProblems.isEmpty {
            try rebuildRecordIndexes(of: id)
            note("flag, date and size indexes rebuilt from the messages (\(recordProblems.count) problem\(recordProblems.count == 1 ? "" : "s"))")
        }
        let problems = try indexProblems(mailbox)
        guard !problems.isEmpty else {
            progress(messages)
            return (actions, messages)
        }
        // Sort keys of UIDs that are gone would survive a reindex: start from none.
        var sortKeys: [[UInt8]] = []
        try kv.scan(.sortKeys, prefix: Keys.mailboxPrefix(id)) { k, _ in sortKeys.append(Array(k)); return true }
        for key in sortKeys { try w.delete(.sortKeys, key) }
        try reindex(id, progress: progress)
        note("text index and sort keys rebuilt from the messages (\(problems.count) problem\(problems.count == 1 ? "" : "s"))")
        return (actions, messages)
    }

    /// Index segments of mailboxes that no longer exist, and segment pieces without a segment,
    /// removed.
    func removeOrphanedIndex() throws -> [RepairAction] {
        var orphans: [(MailboxID, UInt64, SegmentInfo)] = []
        var segments = Set<UInt64>()
        try kv.scan(.textSegments, prefix: []) { k, v in
            let mailbox = MailboxID(rawValue: readU32(k, at: 0)), id = readU64(k, at: 4)
            if try self.mailbox(mailbox) == nil { orphans.append((mailbox, id, try SegmentInfo(decoding: v))) } else { segments.insert(id) }
            return true
        }
        for (mailbox, id, info) in orphans { try deleteSegment(mailbox, id, info) }
        var pieces: [[UInt8]] = []
        try kv.scan(.textChunks, prefix: []) { k, _ in
            if !segments.contains(readU64(k, at: 0)) { pieces.append(Array(k)) }
            return true
        }
        for key in pieces { try w.delete(.textChunks, key) }
        let gone = try RecordIndex.spaces.reduce(into: Set<MailboxID>()) { $0.formUnion(try deletedMailboxes(inRecordIndex: $1)) }
        for mailbox in gone { try removeRecordIndexes(of: mailbox) }
        var actions: [RepairAction] = []
        if !gone.isEmpty {
            actions.append(RepairAction(description: "flag, date and size indexes of \(gone.count) deleted mailbox\(gone.count == 1 ? "" : "es") removed"))
        }
        if !orphans.isEmpty { actions.append(RepairAction(description: "\(orphans.count) text segments of deleted mailboxes removed")) }
        if !pieces.isEmpty { actions.append(RepairAction(description: "\(pieces.count) text segment pieces without a segment removed")) }
        return actions
    }
}
